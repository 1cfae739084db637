// The REPL an operator uses, driven on a real terminal: `npm run repl`'s
// command joins a small cluster over NATS, `npm run dev`'s runs the whole app
// embedded, and the tests assert on what the commands print.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Errors, ServiceBroker } from "moleculer";
import { brokerConfig } from "../../moleculer.config";
import { readEnv } from "../../lib/platform/env";
import type { BreakerView } from "../../lib/ops/breakers";
import type { Availability, Page, Product, StockLevel } from "../../lib/contract/contract";
import { uniqueName } from "../support/app";
import { Cluster, freePort, waitFor, type ClusterNode } from "../support/cluster";
import { request } from "../support/http";
import { Terminal } from "../support/pty";
import { clusterEnv, describeWithServers } from "../support/servers";

const ROOT = path.join(__dirname, "../..");
const RUNNER = path.join(ROOT, "node_modules/moleculer/bin/moleculer-runner.js");
const CONFIG = path.join(ROOT, "dist/moleculer.config.js");
const LOG_DIR = path.join(ROOT, ".infra/log/cluster-tests");
const PROMPT = "mol $ ";
const homes: string[] = [];
afterAll(() => homes.forEach(home => rmSync(home, { recursive: true, force: true })));

/** The REPL process as `npm run repl` / `npm run dev` start it (after their build). */
function startRepl(name: string, env: NodeJS.ProcessEnv): Terminal {
	mkdirSync(LOG_DIR, { recursive: true });
	// The REPL keeps its history in $HOME; a throwaway home keeps the tester's clean.
	const home = mkdtempSync(path.join(os.tmpdir(), "repl-home-"));
	homes.push(home);
	return new Terminal(process.execPath, [RUNNER, "--repl", "--config", CONFIG], {
		cwd: ROOT,
		prompt: PROMPT,
		env: { ...env, HOME: home, METRICS_PORT: "off", LOGLEVEL: "warn", NODE_ENV: "development" },
		logFile: path.join(LOG_DIR, `${name}.log`),
	});
}

/** This process's environment without the variables that pick a cluster. */
function ownEnv(): NodeJS.ProcessEnv {
	const env = { ...process.env };
	for (const key of ["TRANSPORTER", "CACHER", "MONGO_URI", "NAMESPACE", "NODEID", "SERVICES", "PORT", "HEALTH_PORT"]) delete env[key];
	return env;
}

/** The table row that starts with `first`, as its cells. */
function row(output: string, first: string): string[] {
	const cells = (line: string) =>
		line
			.split(/[│║]/)
			.slice(1, -1)
			.map(cell => cell.trim());
	const line = output.split("\n").find(text => cells(text)[0] === first);
	if (!line) throw new Error(`No row for ${first} in:\n${output}`);
	return cells(line);
}

/** The JSON a command printed (consistency, or any command with --json). */
function json<T>(output: string): T {
	try {
		return JSON.parse(output.slice(output.search(/^[[{]/m))) as T;
	} catch {
		throw new Error(`The REPL printed no JSON:\n${output}`);
	}
}

describeWithServers(["nats", "redis", "mongo"], "the REPL attached to a running cluster", () => {
	const namespace = uniqueName("repl");
	const env = clusterEnv(namespace);
	const cluster = new Cluster(env);
	const id = (name: string) => `${name}-${process.pid}`;
	const replID = id("repl");
	let url = "";
	let repl: Terminal;
	// A node of the test's own whose one action always fails with a server
	// error: what a circuit breaker is there to stop calling.
	let flaky: ServiceBroker;
	let backoffice: ClusterNode;

	beforeAll(async () => {
		const port = await freePort();
		url = `http://127.0.0.1:${port}`;
		cluster.start("gateway", "api", { PORT: String(port) });
		cluster.start("catalog", "products");
		cluster.start("stock", "inventory");
		backoffice = cluster.start("backoffice", "orders,payments,shipping,notifications");
		// With metrics on, so `breakers` can count how often its breaker opened.
		const flakyEnv = { ...env, NODE_ENV: "test", METRICS_PORT: String(await freePort()) };
		flaky = new ServiceBroker({ ...brokerConfig(readEnv(flakyEnv)), nodeID: id("flaky"), logger: false });
		flaky.createService({
			name: "flaky",
			actions: {
				fail() {
					// Not retryable: each call is one failure for the breaker to count.
					throw new Errors.MoleculerError("The flaky service always fails", 500, "FLAKY");
				},
			},
		});
		await flaky.start();
		await flaky.waitForServices(["products", "inventory", "orders", "payments", "shipping", "notifications"], 120_000);
		// Inventory gives the seeded catalog its stock in the background.
		await waitFor(
			async () => (await flaky.call<StockLevel[], object>("inventory.all", { pageSize: 500 })).length === 60,
			60_000,
			() => cluster.logs(),
		);
		await waitFor(
			async () => (await request(`${url}/api/products?pageSize=1`)).status === 200,
			60_000,
			() => cluster.logs(),
		);

		repl = startRepl(`${namespace}-repl`, { ...ownEnv(), ...env, NODEID: replID });
		await repl.waitFor(new RegExp(PROMPT.replace("$", "\\$")), 90_000);
		// Discovery runs on after the prompt: wait until the REPL knows every node.
		const everyNode = ["gateway", "catalog", "stock", "backoffice", "flaky"].map(id);
		await waitFor(
			async () => {
				const nodes = await repl.run("nodes");
				return everyNode.every(nodeID => nodes.includes(nodeID));
			},
			60_000,
			() => repl.tail(),
		);
	}, 300_000);

	afterAll(async () => {
		await repl?.close();
		await flaky?.stop();
		await cluster.stopAll();
	}, 60_000);

	it("lists every node with `nodes`, the REPL's own marked (*)", async () => {
		const nodes = await repl.run("nodes");
		for (const name of ["gateway", "catalog", "stock", "backoffice", "flaky"]) expect(row(nodes, id(name))).toContain("ONLINE");
		expect(row(nodes, `${replID} (*)`)).toContain("ONLINE");
	});

	it("shows every node's host, process, services, memory and uptime with `health`", async () => {
		const health = await repl.run("health");
		const catalog = row(health, id("catalog"));
		// Node ID, State, Host, PID, Services, CPU, Load 1m, RSS, Heap used, Uptime, Moleculer / Node.js
		expect(catalog[1]).toBe("ONLINE");
		expect(catalog[2]).toBe(os.hostname());
		expect(catalog[3]).toMatch(/^\d+$/);
		expect(catalog[4]).toBe("products");
		expect(catalog[7]).toMatch(/^\d+ MB$/);
		expect(catalog[9]).toMatch(/^(\d+d )?(\d+h )?(\d+m )?\d+[smh]$/);
		expect(catalog[10]).toMatch(/^0\.15\.\d+ \/ v\d+/);
		expect(row(health, id("backoffice"))[4]).toBe("notifications, orders, payments, shipping");
		expect(row(health, id("gateway"))[4]).toBe("api");
		expect(row(health, `${replID} (*)`)[4]).toBe("-");

		const rows = json<{ nodeID: string; available: boolean; pid: number; rssMB: number; uptimeSeconds: number }[]>(await repl.run("health --json"));
		expect(rows.map(r => r.nodeID).sort()).toEqual(["backoffice", "catalog", "flaky", "gateway", "repl", "stock"].map(id).sort());
		for (const r of rows)
			expect(r).toMatchObject({ available: true, pid: expect.any(Number), rssMB: expect.any(Number), uptimeSeconds: expect.any(Number) });
	});

	it("calls an action with `call` and prints the response", async () => {
		const output = await repl.run("call products.list --pageSize 1");
		expect(output).toContain(">> Response:");
		expect(output).toMatch(/total: 60,/);
		expect(output).toMatch(/pageSize: 1,/);
	});

	it("puts back a removed demo product and gives it stock with `seed`, and a second `seed` changes nothing", async () => {
		const find = async () => (await request<Page<Product>>(`${url}/api/products?q=TOYS-004`)).body.rows;
		const [kite] = await find();
		expect(await repl.run(`call products.remove --id ${kite.id}`)).toContain("TOYS-004");
		expect(await find()).toEqual([]);

		const first = await repl.run("seed");
		expect(first).toContain("Demo catalog: 1 product created, 59 already there");
		expect(first).toContain("Demo stock:   1 product given 100 units, 59 already had stock");
		const [again] = await find();
		expect(again).toMatchObject({ sku: "TOYS-004", name: kite.name, price: kite.price });
		expect(again.id).not.toBe(kite.id);
		expect((await request<Availability>(`${url}/api/inventory/${again.id}`)).body).toMatchObject({ available: 100, reserved: 0 });

		const second = await repl.run("seed");
		expect(second).toContain("Demo catalog: 0 products created, 60 already there");
		expect(second).toContain("Demo stock:   0 products given 100 units, 60 already had stock");
		expect(json(await repl.run("seed --json"))).toEqual({ products: { created: 0, existing: 60 }, stock: { seeded: 0, existing: 60, unitsEach: 100 } });
	});

	it("checks the cluster's invariants with `consistency`", async () => {
		const report = json<{ ok: boolean; violations: string[]; counts: { products: number } }>(await repl.run("consistency"));
		expect(report).toMatchObject({ ok: true, violations: [] });
		expect(report.counts.products).toBeGreaterThanOrEqual(60); // stock records, the removed product's included
	});

	it("shows which node's circuit breaker stopped calling which endpoint with `breakers`", async () => {
		const calm = await repl.run("breakers");
		expect(calm).toContain("No circuit breaker is open.");
		const gateway = row(calm, id("gateway"));
		expect(Number(gateway[1])).toBeGreaterThan(20); // endpoints the gateway can call
		expect(gateway[2]).toBe("0");

		// Ten server errors in a row open the REPL node's breaker for that endpoint
		// (at least 10 calls, half failing); the next call finds no endpoint to use.
		let tripped = false;
		for (let i = 0; i < 25 && !tripped; i++) tripped = (await repl.run("call flaky.fail")).includes("Service 'flaky.fail' is not available");
		expect(tripped).toBe(true);
		// The flaky node trips its own breaker too, for its own local calls.
		for (let i = 0; i < 25; i++) {
			const err = await flaky.call("flaky.fail").catch((e: { type?: string }) => e);
			if ((err as { type?: string }).type === "SERVICE_NOT_AVAILABLE") break;
		}

		const breakers = await repl.run("breakers");
		expect(breakers).not.toContain("No circuit breaker is open.");
		// The REPL's view, with its own failure counts (OPEN, or HALF_OPEN once 10 s have passed).
		const replRow = breakers.split("\n").find(line => line.includes(`${replID} (*)`) && line.includes("flaky.fail"));
		expect(replRow).toMatch(new RegExp(`flaky\\.fail\\s+│ ${id("flaky")}\\s+│ (OPEN|HALF_OPEN)\\s+│ \\d+ / \\d+`));
		// The flaky node's view, read through $node.actions on that node.
		const flakyRow = breakers.split("\n").find(line => line.includes(`│ ${id("flaky")} `) && line.includes("flaky.fail") && !line.includes("(*)"));
		expect(flakyRow).toMatch(/│ OPEN\s+│ -/);
		expect(row(breakers, id("gateway"))[2]).toBe("0");
		expect(row(breakers, id("flaky")).slice(2)).toEqual(["1", "1"]); // open now; opened once since start

		const views = json<BreakerView[]>(await repl.run("breakers --json"));
		const own = views.find(view => view.local)!;
		expect(own.nodeID).toBe(replID);
		expect(own.tripped).toEqual([
			expect.objectContaining({ action: "flaky.fail", nodeID: id("flaky"), failures: expect.any(Number), requests: expect.any(Number) }),
		]);
		const gatewayView = views.find(view => view.nodeID === id("gateway"))!;
		expect(gatewayView.tripped).toEqual([]);
		expect(gatewayView).not.toHaveProperty("error");
	});

	it("shows a node that left as OFFLINE, and a command whose service is gone fails in one line", async () => {
		await backoffice.stop();
		await waitFor(
			async () => row(await repl.run("health"), id("backoffice"))[1] === "OFFLINE",
			30_000,
			() => repl.tail(),
		);
		const output = await repl.run("consistency");
		expect(output).toMatch(/>> ERROR: Service 'orders\.all' is not (found|available)\. \(SERVICE_NOT_(FOUND|AVAILABLE)\)/);
		expect(output).not.toMatch(/^\s+at /m); // no stack trace
	});

	it("ends the process with `exit`", async () => {
		repl.type("exit");
		expect(await repl.waitForExit(30_000)).toBe(0);
	});
});

describe("the REPL on the embedded app (npm run dev)", () => {
	const dataDir = mkdtempSync(path.join(os.tmpdir(), "repl-dev-"));
	let repl: Terminal;

	beforeAll(async () => {
		const port = await freePort();
		repl = startRepl(`${path.basename(dataDir)}-dev`, { ...ownEnv(), SERVICEDIR: "dist/services", DATA_DIR: dataDir, PORT: String(port) });
		await repl.waitFor(new RegExp(PROMPT.replace("$", "\\$")), 120_000);
	}, 180_000);

	afterAll(async () => {
		await repl?.close();
		rmSync(dataDir, { recursive: true, force: true });
	}, 60_000);

	it("runs the custom commands against the services in the REPL's own process", async () => {
		// Products seeded themselves at start; seed finds them (stock may still be on its way).
		expect(await repl.run("seed")).toMatch(
			/Demo catalog: 0 products created, 60 already there\nDemo stock: +\d+ products? given 100 units, \d+ already had stock/,
		);
		expect(json(await repl.run("consistency"))).toMatchObject({ ok: true, violations: [] });
		const health = await repl.run("health");
		const self = health.split("\n").filter(line => line.includes("(*)"));
		expect(self).toHaveLength(1);
		expect(self[0]).toMatch(/ONLINE.*products/);

		repl.type("exit");
		expect(await repl.waitForExit(30_000)).toBe(0);
	});
});
