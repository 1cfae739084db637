// Security between nodes: a nats-server of the test's own that requires
// mutual TLS (a client certificate from our CA) and a password. A gateway node
// and a products node join it with NATS_TLS_* and credentials in TRANSPORTER;
// a client missing the certificate or the password is turned away, and a
// plain-TCP client reads nothing of the traffic.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { connect, usernamePasswordAuthenticator, type ConnectionOptions } from "nats";
import { uniqueName } from "../support/app";
import { Cluster, freePort, waitFor, type ClusterNode } from "../support/cluster";
import { request } from "../support/http";
import { describeWithTools, findExecutable, NatsServer, natsServerBinary } from "../support/nats-server";
import type { Page, Product } from "../../lib/contract/contract";

const tools = { natsServer: natsServerBinary, openssl: findExecutable("openssl") };

interface Pki {
	ca: string;
	server: { cert: string; key: string };
	client: { cert: string; key: string };
	/** A client certificate from a CA the server does not trust. */
	stranger: { cert: string; key: string };
}

/** A CA, a server certificate for 127.0.0.1/localhost and client certificates, made with openssl in `dir`. */
function makePki(dir: string): Pki {
	const openssl = (...args: string[]) => execFileSync(tools.openssl!, args, { cwd: dir, stdio: "pipe" });
	const file = (name: string) => path.join(dir, name);
	const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
	const makeCa = (name: string) =>
		openssl("req", "-x509", ...newKey, "-keyout", `${name}-key.pem`, "-out", `${name}.pem`, "-days", "1", "-subj", `/CN=${name}`);
	let serial = 1;
	const issue = (name: string, ca: string, extensions: string) => {
		writeFileSync(file(`${name}.ext`), extensions);
		openssl("req", ...newKey, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
		openssl(
			"x509",
			"-req",
			"-in",
			`${name}.csr`,
			"-CA",
			`${ca}.pem`,
			"-CAkey",
			`${ca}-key.pem`,
			"-set_serial",
			String(serial++),
			"-days",
			"1",
			"-out",
			`${name}.pem`,
			"-extfile",
			`${name}.ext`,
		);
		return { cert: file(`${name}.pem`), key: file(`${name}-key.pem`) };
	};
	makeCa("shop-ca");
	makeCa("stranger-ca");
	return {
		ca: file("shop-ca.pem"),
		server: issue("nats-server", "shop-ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"),
		client: issue("shop-node", "shop-ca", "extendedKeyUsage=clientAuth\n"),
		stranger: issue("stranger-node", "stranger-ca", "extendedKeyUsage=clientAuth\n"),
	};
}

describeWithTools("NATS with mutual TLS and a password between nodes", { "nats-server": tools.natsServer, openssl: tools.openssl }, () => {
	const user = "shop";
	// Characters that must be percent-encoded in the URL, to show they are decoded.
	const password = `p@ss:${uniqueName("w")}/x`;
	const namespace = uniqueName("sec");
	let dir: string;
	let pki: Pki;
	let nats: NatsServer | undefined;
	let cluster: Cluster;
	let gateway: { node: ClusterNode; url: string };
	let products: ClusterNode;

	const natsUrl = (credentials = `${user}:${encodeURIComponent(password)}`, scheme = "nats") => `${scheme}://${credentials}@127.0.0.1:${nats!.port}`;
	const nodeEnv = () => ({
		TRANSPORTER: natsUrl(),
		NATS_TLS_CA: pki.ca,
		NATS_TLS_CERT: pki.client.cert,
		NATS_TLS_KEY: pki.client.key,
		NAMESPACE: namespace,
		DATA_DIR: path.join(dir, "data"),
		// NeDB and the in-process cache: only NATS is under test here.
		CACHER: undefined,
		MONGO_URI: undefined,
	});
	const describeFailure = () => `--- nats-server\n${(nats?.log ?? "").split("\n").slice(-15).join("\n")}\n${cluster?.logs() ?? ""}`;
	/** A raw nats.js connection attempt; resolves with the error that refused it. */
	const refusal = async (options: ConnectionOptions): Promise<{ code?: string; message: string }> => {
		try {
			const nc = await connect({ servers: [`127.0.0.1:${nats!.port}`], timeout: 3000, reconnect: false, ...options });
			await nc.close();
		} catch (err) {
			return err as { code?: string; message: string };
		}
		throw new Error("the connection was accepted");
	};

	beforeAll(async () => {
		dir = mkdtempSync(path.join(os.tmpdir(), "nats-security-"));
		mkdirSync(path.join(dir, "data"));
		pki = makePki(dir);
		nats = await NatsServer.start(dir, [
			`tls { cert_file: ${JSON.stringify(pki.server.cert)}, key_file: ${JSON.stringify(pki.server.key)}, ca_file: ${JSON.stringify(pki.ca)}, verify: true }`,
			`authorization { users: [ { user: ${JSON.stringify(user)}, password: ${JSON.stringify(password)} } ] }`,
		]);

		cluster = new Cluster(nodeEnv());
		const port = await freePort();
		// The gateway logs at debug level, to show that not even that prints the password.
		gateway = { node: cluster.start("gateway", "api", { PORT: String(port), LOGLEVEL: "debug" }), url: `http://127.0.0.1:${port}` };
		// tls:// says TLS is required whatever the server offers; nats:// takes what it asks for.
		products = cluster.start("products", "products", { TRANSPORTER: natsUrl(undefined, "tls") });
		await waitFor(async () => (await request(`${gateway.url}/api/products`)).status === 200, 60_000, describeFailure);
	});

	afterAll(async () => {
		await cluster?.stopAll();
		await nats?.stop();
		if (dir) rmSync(dir, { recursive: true, force: true });
	});

	it("serves the catalog through the gateway from the products node over the secured NATS", async () => {
		const res = await request<Page<Product>>(`${gateway.url}/api/products?pageSize=5&sort=price`);
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ total: 60, pageSize: 5 });
		expect(products.child.exitCode).toBeNull();
	});

	it("connects both the transporter and the channels adapter of every node with TLS and the password", async () => {
		const connz = (await (await fetch(`http://127.0.0.1:${nats!.monitorPort}/connz?auth=1`)).json()) as {
			connections: { tls_version?: string; authorized_user?: string }[];
		};
		// Two nodes, each with a transporter connection and a JetStream one.
		expect(connz.connections).toHaveLength(4);
		for (const connection of connz.connections) {
			expect(connection).toMatchObject({ authorized_user: user, tls_version: expect.stringMatching(/^1\.[23]$/) });
		}
	});

	it("turns away a client without a client certificate at the TLS handshake", async () => {
		await refusal({ tls: { caFile: pki.ca }, authenticator: usernamePasswordAuthenticator(user, password) });
		await waitFor(async () => nats!.log.includes("client didn't provide a certificate"), 5000, describeFailure);
	});

	it("turns away a client whose certificate comes from another CA", async () => {
		await refusal({
			tls: { caFile: pki.ca, certFile: pki.stranger.cert, keyFile: pki.stranger.key },
			authenticator: usernamePasswordAuthenticator(user, password),
		});
		await waitFor(async () => /TLS handshake error: .*(unknown authority|bad certificate)/.test(nats!.log), 5000, describeFailure);
	});

	it("refuses the right certificate with a wrong password, and such a node never joins", async () => {
		const tls = { caFile: pki.ca, certFile: pki.client.cert, keyFile: pki.client.key };
		expect(await refusal({ tls, authenticator: usernamePasswordAuthenticator(user, "wrong-password") })).toMatchObject({ code: "AUTHORIZATION_VIOLATION" });
		expect(await refusal({ tls })).toMatchObject({ code: "AUTHORIZATION_VIOLATION" });

		// A whole node with the certificate but the wrong password, hosting inventory.
		const intruder = cluster.start("intruder", "inventory", { TRANSPORTER: natsUrl(`${user}:wrong-password`) });
		try {
			await waitFor(async () => readFileSync(intruder.logFile, "utf8").includes("Authorization Violation"), 30_000, describeFailure);
			const { body } = await request<Page<Product>>(`${gateway.url}/api/products?pageSize=1`);
			const res = await request(`${gateway.url}/api/inventory/${body.rows[0].id}`);
			expect(res.status).toBe(503);
			expect(res.body).toMatchObject({ type: "SERVICE_UNAVAILABLE" });
		} finally {
			await intruder.stop("SIGKILL");
		}
	});

	it("refuses a plain-TCP client before it can read any traffic", async () => {
		const socket = net.connect(nats!.port, "127.0.0.1");
		let received = "";
		let sent = false;
		socket.on("data", chunk => {
			received += chunk.toString("latin1");
			if (sent || !received.includes("\r\n")) return;
			sent = true;
			// Valid credentials, in the clear: subscribe to everything.
			socket.write(`CONNECT ${JSON.stringify({ user, pass: password, verbose: false })}\r\nSUB > 1\r\nPING\r\n`);
		});
		const closed = new Promise<void>(resolve => socket.once("close", () => resolve()));
		socket.on("error", () => undefined); // a reset is a refusal too
		// Traffic between the nodes while the plain client is connected.
		for (let i = 0; i < 5; i++) expect((await request(`${gateway.url}/api/products?q=plain${i}`)).status).toBe(200);
		await closed;

		// All it got is the server's greeting, demanding TLS; no PONG, no message.
		const lines = received.split("\r\n").filter(Boolean);
		expect(lines).toHaveLength(1);
		expect(JSON.parse(lines[0].replace(/^INFO /, ""))).toMatchObject({ tls_required: true, tls_verify: true, auth_required: true });
		expect(received).not.toMatch(/MSG|PONG|\+OK/);
	});

	it("never logs the NATS password, even at debug level", () => {
		for (const node of [gateway.node, products]) {
			const log = readFileSync(node.logFile, "utf8");
			expect(log).toContain("NATS client is connected");
			expect(log).not.toContain(password);
			expect(log).not.toContain(encodeURIComponent(password));
		}
	});
});
