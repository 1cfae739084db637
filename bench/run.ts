// `npm run bench [-- --quick]`: starts what it measures on loopback (real
// NATS, Redis and FerretDB through scripts/infra.sh), drives load from
// separate processes, measures the baselines in the same run, and reports
// every figure as a ratio (bench/REPORT.md, bench/results/latest.json).
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { ServiceBroker } from "moleculer";
import { brokerConfig } from "../moleculer.config";
import { readEnv } from "../lib/env";
import { freePort, measure, start, stopAll, waitUntil, type Proc } from "./processes";
import { httpLoad, type HttpResult } from "./load";
import { writeReport, type BenchResults, type CallResult, type Ratio } from "./report";

const quick = process.argv.includes("--quick");
const SECONDS = quick ? 2 : 8;
const RUNS = quick ? 1 : 3;
const CONNECTIONS = 50;
const ROOT = path.join(__dirname, "..");

const infra = Object.fromEntries(
	execFileSync("bash", [path.join(ROOT, "scripts/infra.sh"), "env"], { encoding: "utf8" })
		.split("\n")
		.filter(line => line.startsWith("export "))
		.map(line => line.slice(7).split("=", 2)),
) as { TRANSPORTER: string; CACHER: string; MONGO_URI: string };

/** Production-like: metrics, request ids and rate limiting on (with a limit that never bites). */
const common = { METRICS_PORT: "0", RATE_LIMIT: "1000000000", AUTH_RATE_LIMIT: "1000000000" };

function cluster(extra: Record<string, string> = {}) {
	return { ...common, TRANSPORTER: infra.TRANSPORTER, CACHER: infra.CACHER, NAMESPACE: `bench${randomBytes(3).toString("hex")}`, ...extra };
}

async function median(run: () => Promise<HttpResult>): Promise<HttpResult> {
	const results: HttpResult[] = [];
	for (let i = 0; i < RUNS; i++) results.push(await run());
	return results.sort((a, b) => a.rps - b.rps)[Math.floor(results.length / 2)];
}

const get = (url: string, uniqueQuery?: string) => median(() => httpLoad({ url, connections: CONNECTIONS, seconds: SECONDS, uniqueQuery }));

async function gateway(env: Record<string, string>, services: string): Promise<{ proc: Proc; url: string }> {
	const port = await freePort();
	const proc = await start(`gateway:${services}`, "bench/node.ts", { ...env, BENCH_SERVICES: services, PORT: String(port) });
	return { proc, url: `http://127.0.0.1:${port}` };
}

async function ready(url: string, path: string): Promise<void> {
	await waitUntil(async () => (await fetch(`${url}${path}`)).status === 200, 30_000, `${url}${path}`);
}

async function main(): Promise<void> {
	console.log(`bench: ${quick ? "quick" : "full"} run; starting servers`);
	execFileSync("bash", [path.join(ROOT, "scripts/infra.sh"), "up"], { stdio: ["ignore", "ignore", "inherit"] });
	const http: Record<string, HttpResult> = {};
	const calls: Record<string, CallResult> = {};
	const route = "/api/products?pageSize=4";

	// 1. One process: the gateway serving a cached catalog page, and the baselines.
	const local = await gateway({ ...common, NODE_ENV: "test", METRICS_PORT: "0" }, "api,products");
	await ready(local.url, route);
	const body = await (await fetch(`${local.url}${route}`)).text();
	for (const [name, entry] of [["bare node http", "bench/servers/bare-http.ts"], ["fastify", "bench/servers/fastify.ts"]]) {
		const port = await freePort();
		const proc = await start(name, entry, { PORT: String(port), BENCH_BODY: body });
		http[name] = await get(`http://127.0.0.1:${port}${route}`);
		await proc.stop();
	}
	http["gateway, local action, cached"] = await get(`${local.url}${route}`);
	await local.proc.stop();
	console.log(`bench: HTTP baselines done (body ${body.length} bytes)`);

	// 2. Gateway -> NATS -> catalog node, with the shared Redis cache.
	const natsEnv = cluster({ NODE_ENV: "test" });
	const worker = await start("catalog", "bench/node.ts", { ...natsEnv, BENCH_SERVICES: "products" });
	const remote = await gateway(natsEnv, "api");
	await ready(remote.url, route);
	http["gateway -> NATS -> worker, cache hit"] = await get(`${remote.url}${route}`);
	http["gateway -> NATS -> worker, cache miss"] = await get(`${remote.url}/api/products?pageSize=4&sort=price`, "q");
	await remote.proc.stop();
	await worker.stop();
	console.log("bench: NATS hop done");

	// 3. Broker calls without HTTP: local and over NATS, 1 and 100 in flight, JSON and Notepack.
	for (const serializer of ["JSON", "Notepack"]) {
		const env = cluster({ SERIALIZER: serializer, NODE_ENV: "test" });
		const echo = await start(`echo:${serializer}`, "bench/node.ts", { ...env, BENCH_SERVICES: "bench" });
		for (const concurrency of [1, 100]) {
			const settings = { BENCH_CONCURRENCY: String(concurrency), BENCH_SECONDS: String(Math.max(2, SECONDS - 1)), SERIALIZER: serializer, NODE_ENV: "test" };
			if (serializer === "JSON") calls[`local, ${concurrency} in flight`] = await measure<CallResult>("bench/call-load.ts", settings);
			calls[`NATS ${serializer}, ${concurrency} in flight`] = await measure<CallResult>("bench/call-load.ts", { ...env, ...settings });
		}
		await echo.stop();
	}
	console.log("bench: broker calls done");

	// 4. Scaling: a CPU-bound route on one, then two worker nodes.
	const cpuEnv = cluster({ NODE_ENV: "test" });
	const cpuGateway = await gateway(cpuEnv, "api");
	const cpu1 = await start("cpu1", "bench/node.ts", { ...cpuEnv, BENCH_SERVICES: "bench" });
	await ready(cpuGateway.url, "/api/bench/cpu");
	http["CPU-bound route, 1 worker"] = await get(`${cpuGateway.url}/api/bench/cpu`);
	const cpu2 = await start("cpu2", "bench/node.ts", { ...cpuEnv, BENCH_SERVICES: "bench" });
	await new Promise(resolve => setTimeout(resolve, 1500)); // the gateway learns of the new node
	http["CPU-bound route, 2 workers"] = await get(`${cpuGateway.url}/api/bench/cpu`);
	await Promise.all([cpuGateway.proc.stop(), cpu1.stop(), cpu2.stop()]);
	console.log("bench: scaling done");

	// 5. Checkout on the whole cluster with real servers, then a soak with mixed traffic.
	const shopEnv = cluster({ MONGO_URI: `${infra.MONGO_URI}${randomBytes(3).toString("hex")}` });
	const nodes = await Promise.all([
		start("identity", "bench/node.ts", { ...shopEnv, BENCH_SERVICES: "auth,users" }),
		start("catalog", "bench/node.ts", { ...shopEnv, BENCH_SERVICES: "products,inventory" }),
		start("commerce", "bench/node.ts", { ...shopEnv, BENCH_SERVICES: "carts,orders,payments" }),
		start("fulfilment", "bench/node.ts", { ...shopEnv, BENCH_SERVICES: "shipping,notifications" }),
	]);
	const shop = await gateway(shopEnv, "api");
	await ready(shop.url, "/health/ready");
	await waitUntil(async () => (await fetch(`${shop.url}/api/products?pageSize=1`)).status === 200, 30_000, "catalog");
	const checkoutSeconds = quick ? 4 : 20;
	const checkout = await measure<BenchResults["checkout"]>("bench/checkout-load.ts", { BENCH_URL: shop.url, BENCH_USERS: "20", BENCH_SECONDS: String(checkoutSeconds) });
	console.log("bench: checkout done");

	const soakSeconds = quick ? 10 : 180;
	const observer = new ServiceBroker({ ...brokerConfig(readEnv({ ...shopEnv, NODE_ENV: "test" })), logger: false, nodeID: `bench-observer-${process.pid}` });
	await observer.start();
	const nodeIDs = (await observer.call<{ id: string; local: boolean; available: boolean }[], object>("$node.list", { onlyAvailable: true })).filter(n => !n.local).map(n => n.id);
	const heap = async () =>
		Object.fromEntries(
			await Promise.all(nodeIDs.map(async id => [id, ((await observer.call<{ process: { memory: { heapUsed: number } } }, object>("$node.health", {}, { nodeID: id })).process.memory.heapUsed) / 1e6] as const)),
		);
	const first = await heap();
	const traffic = Promise.all([
		httpLoad({ url: `${shop.url}${route}`, connections: 10, seconds: soakSeconds }),
		measure("bench/checkout-load.ts", { BENCH_URL: shop.url, BENCH_USERS: "5", BENCH_SECONDS: String(soakSeconds) }),
	]);
	const samples: Record<string, number>[] = [];
	const sampler = setInterval(() => void heap().then(sample => samples.push(sample)), 2000);
	await traffic;
	clearInterval(sampler);
	const last = await heap();
	const soakNodes = Object.fromEntries(nodeIDs.map(id => [id, { firstMb: first[id], lastMb: last[id], growth: last[id] / first[id] - 1 }]));
	await observer.stop();
	await Promise.all([shop.proc.stop(), ...nodes.map(node => node.stop())]);
	console.log("bench: soak done");

	const ratio = (name: string, value: number, target?: number, note?: string): Ratio => ({ name, value, target, note });
	const h = (name: string) => http[name].rps;
	const ratios: Ratio[] = [
		ratio("fastify / bare http", h("fastify") / h("bare node http")),
		ratio("gateway local cached / bare http", h("gateway, local action, cached") / h("bare node http"), 0.7),
		ratio("gateway via NATS cached / gateway local cached", h("gateway -> NATS -> worker, cache hit") / h("gateway, local action, cached"), 0.75),
		ratio("gateway via NATS miss / hit", h("gateway -> NATS -> worker, cache miss") / h("gateway -> NATS -> worker, cache hit")),
		ratio("broker calls NATS / local (100 in flight)", calls["NATS JSON, 100 in flight"].callsPerSecond / calls["local, 100 in flight"].callsPerSecond),
		ratio("broker calls Notepack / JSON over NATS (100 in flight)", calls["NATS Notepack, 100 in flight"].callsPerSecond / calls["NATS JSON, 100 in flight"].callsPerSecond),
		ratio("CPU-bound route, 2 workers / 1 worker", h("CPU-bound route, 2 workers") / h("CPU-bound route, 1 worker"), undefined, "2 cores shared by gateway, workers and load"),
		ratio("checkout orders/s / 150", checkout.ordersPerSecond / 150, 1, `p99 ${checkout.p99.toFixed(0)} ms (target < 250), ${checkout.errors} errors`),
		ratio("soak: largest heap growth (last / first)", 1 + Math.max(...Object.values(soakNodes).map(n => n.growth))),
	];

	writeReport({
		date: new Date().toISOString(),
		quick,
		machine: { cpus: os.cpus().length, node: process.version },
		http,
		calls,
		checkout,
		soak: { seconds: soakSeconds, nodes: soakNodes },
		ratios,
	});
}

main()
	.catch(err => {
		console.error(err);
		process.exitCode = 1;
	})
	.finally(() => stopAll());
