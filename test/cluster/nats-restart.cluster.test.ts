// NATS restarting under load: while it is down, clients get quick, clear
// 503/504 answers; once it is back, every node reconnects by itself (no node
// restarts) and the cluster serves again, facts on JetStream included.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { uniqueName } from "../support/app";
import { Cluster, waitFor } from "../support/cluster";
import { failures, startLoad } from "../support/load";
import { describeWithTools, NatsServer, natsServerBinary } from "../support/nats-server";
import { clusterEnv } from "../support/servers";
import { Shopper, someProduct } from "../support/shop";
import { eventually } from "../support/wait";
import type { Notification, Page } from "../../lib/contract/contract";

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describeWithTools("cluster through a NATS restart", { "nats-server": natsServerBinary }, () => {
	const namespace = uniqueName("restart");
	let dir = "";
	let nats: NatsServer;
	let cluster: Cluster;
	let url = "";

	beforeAll(async () => {
		dir = mkdtempSync(path.join(os.tmpdir(), "nats-restart-"));
		nats = await NatsServer.start(dir);
		cluster = new Cluster(clusterEnv(namespace, { TRANSPORTER: `nats://127.0.0.1:${nats.port}`, RATE_LIMIT: "1000000", AUTH_RATE_LIMIT: "100000" }));
		url = await cluster.startShop();
	});
	afterAll(async () => {
		await cluster?.stopAll();
		await nats?.stop();
		if (dir) rmSync(dir, { recursive: true, force: true });
	});

	it("answers clearly while NATS is down and recovers without restarting a node", async () => {
		const browse = (i: number) => fetch(`${url}/api/products?pageSize=1&q=restart${i}`);
		const load = startLoad(browse, 4);
		await sleep(1000);
		await nats.stop();
		const downAt = Date.now();
		// Longer than a read's three attempts (6 s each): some must give up.
		await sleep(21_000);
		await nats.restart();
		const upAt = Date.now();
		// Every node reconnects on its own; the gateway serves again.
		await waitFor(
			async () => (await browse(-1)).status === 200,
			30_000,
			() => cluster.logs(),
		);
		await sleep(2000);
		const answers = await load.stop();

		// Requests in flight at any moment of the outage.
		const outage = answers.filter(a => a.at < upAt && a.at + a.ms > downAt);
		// The outage was felt: reads that outlived their retries got a 504.
		expect(outage.some(a => a.status === 504)).toBe(true);
		// During the outage: 503/504 with the error shape, never a 500, never a hang.
		expect(failures(outage, a => a.status === 200 || ((a.status === 503 || a.status === 504) && JSON.parse(a.body).type !== undefined))).toEqual([]);
		expect(Math.max(...outage.map(a => a.ms))).toBeLessThan(20_000);
		// Shortly after it is back, everything succeeds again.
		const settledAt = upAt + 10_000;
		expect(failures(answers.filter(a => a.at >= settledAt))).toEqual([]);
	}, 90_000);

	it("delivers facts on JetStream again after the restart", async () => {
		const admin = await Shopper.admin(url);
		const product = await someProduct(url, "books", 0);
		// Nodes that dropped each other during the outage (heartbeat timeout) find
		// each other again when NATS is back, or at the next heartbeat (5 s) for an
		// announcement that was missed: the catalog's inventory may lag its products.
		const restock = () => admin.call("PATCH", `/inventory/${product.id}`, { available: 5 });
		expect((await eventually(restock, res => res.status === 200, 15_000)).status).toBe(200);
		const shopper = await Shopper.register(url);
		expect((await shopper.buy(product.id, 1)).body.status).toBe("CONFIRMED");
		const templates = async () => (await shopper.call<Page<Notification>>("GET", "/notifications")).body.rows.map(n => n.template).sort();
		expect(await eventually(templates, list => list.length === 2, 30_000)).toEqual(["order-confirmed", "welcome"]);
	});
});
