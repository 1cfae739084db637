// `npm run bench [-- --quick]`: starts what it measures on loopback (real
// NATS, Redis and the MongoDB stand-in through scripts/infra.sh), drives load from
// separate processes, measures the baselines in the same run, and reports
// every figure as a ratio (bench/REPORT.md, bench/results/latest.json).
import os from "node:os";
import { randomBytes } from "node:crypto";
import { ServiceBroker } from "moleculer";
import { brokerConfig } from "../moleculer.config";
import { readEnv } from "../lib/env";
import { freePort, measure, start, stopAll, waitUntil, type Proc } from "./processes";
import { cpuSince, perUnit } from "./cpu";
import { dropDatabases, startInfra } from "./infra";
import { httpLoad, type HttpResult } from "./load";
import { writeReport, type CallResult, type Ratio } from "./report";
import { measureCheckout, warmUp, type CheckoutResult } from "./checkout";
import { checkoutRatios, checkoutTable, windowTable } from "./checkout-report";
import { BENCH_ENV, clusterShop, embeddedShop } from "./shops";

const quick = process.argv.includes("--quick");
const SECONDS = quick ? 2 : 8;
const RUNS = quick ? 1 : 3;
/** Untimed load first, so the JIT has compiled the hot paths before anything is measured. */
const WARM_UP_SECONDS = quick ? 1 : 3;
const CONNECTIONS = 50;

console.log(`bench: ${quick ? "quick" : "full"} run; starting servers`);
const started = startInfra();
const { env: infra, pids: servers } = started;

const common = BENCH_ENV;

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function cluster(extra: Record<string, string> = {}) {
	return { ...common, TRANSPORTER: infra.TRANSPORTER, CACHER: infra.CACHER, NAMESPACE: `bench${randomBytes(3).toString("hex")}`, ...extra };
}

async function gateway(env: Record<string, string>, services: string): Promise<{ proc: Proc; url: string }> {
	const port = await freePort();
	const proc = await start(`gateway:${services}`, "bench/node.ts", { ...env, BENCH_SERVICES: services, PORT: String(port) });
	return { proc, url: `http://127.0.0.1:${port}` };
}

async function ready(url: string, path: string): Promise<void> {
	await waitUntil(async () => (await fetch(`${url}${path}`)).status === 200, 30_000, `${url}${path}`);
}

async function main(): Promise<void> {
	const http: Record<string, HttpResult> = {};
	const httpCpu: Record<string, Record<string, number>> = {};
	const calls: Record<string, CallResult> = {};
	/** Load on one URL (the median of RUNS runs), and the CPU µs per request of each process that serves it. */
	const get = async (name: string, url: string, pids: Record<string, number | undefined>, uniqueQuery?: string) => {
		await httpLoad({ url, connections: CONNECTIONS, seconds: WARM_UP_SECONDS, uniqueQuery });
		const runs: HttpResult[] = [];
		const cpuUsed = cpuSince(pids);
		for (let i = 0; i < RUNS; i++) runs.push(await httpLoad({ url, connections: CONNECTIONS, seconds: SECONDS, uniqueQuery }));
		httpCpu[name] = perUnit(cpuUsed(), sum(runs.map(r => r.loadCpuMicros)), sum(runs.map(r => r.requests)));
		http[name] = runs.sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)];
	};
	const route = "/api/products?pageSize=4";

	// The catalog the HTTP scenarios serve: the demo catalog in a database of
	// its own, seeded by one development start (production never seeds).
	const catalogDb = { MONGO_URI: `${infra.MONGO_URI}bench${randomBytes(3).toString("hex")}` };
	await (await start("seed", "bench/node.ts", { ...catalogDb, NODE_ENV: "development", BENCH_SERVICES: "products" })).stop();
	const production = { ...common, ...catalogDb, NODE_ENV: "production", JWT_SECRET: randomBytes(32).toString("hex") };

	// 1. One process: the gateway serving a cached catalog page, and the baselines.
	//    Embedded (in-memory cache and rate limit), then as in production (Redis).
	const embedded = await gateway({ ...production, CACHER: "" }, "api,products");
	await ready(embedded.url, route);
	const body = await (await fetch(`${embedded.url}${route}`)).text();
	for (const [name, entry] of [["bare node http", "bench/servers/bare-http.ts"], ["fastify", "bench/servers/fastify.ts"], ["stock moleculer-web, trivial local action", "bench/servers/stock-moleculer-web.ts"]]) {
		const port = await freePort();
		const proc = await start(name, entry, { PORT: String(port), BENCH_BODY: body });
		await get(name, `http://127.0.0.1:${port}${route}`, { server: proc.child.pid });
		await proc.stop();
	}
	await get("gateway, local action, cached in memory", `${embedded.url}${route}`, { gateway: embedded.proc.child.pid });
	await embedded.proc.stop();
	const local = await gateway(cluster(production), "api,products");
	await ready(local.url, route);
	await get("gateway, local action, cached in Redis", `${local.url}${route}`, { gateway: local.proc.child.pid, redis: servers.redis });
	await local.proc.stop();
	console.log(`bench: HTTP baselines done (body ${body.length} bytes)`);

	// 2. The same, with the catalog on a node of its own: gateway -> NATS -> worker.
	const natsEnv = cluster(production);
	const worker = await start("catalog", "bench/node.ts", { ...natsEnv, BENCH_SERVICES: "products" });
	const remote = await gateway(natsEnv, "api");
	await ready(remote.url, route);
	const hop = { gateway: remote.proc.child.pid, worker: worker.child.pid, ...servers };
	await get("gateway -> NATS -> worker, cache hit", `${remote.url}${route}`, hop);
	await get("gateway -> NATS -> worker, cache miss", `${remote.url}/api/products?pageSize=4&sort=price`, hop, "q");
	await remote.proc.stop();
	await worker.stop();
	await dropDatabases(infra.MONGO_URI, new URL(catalogDb.MONGO_URI).pathname.slice(1));
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
	await get("CPU-bound route, 1 worker", `${cpuGateway.url}/api/bench/cpu`, { gateway: cpuGateway.proc.child.pid, worker: cpu1.child.pid, "nats-server": servers["nats-server"] });
	const cpu2 = await start("cpu2", "bench/node.ts", { ...cpuEnv, BENCH_SERVICES: "bench" });
	await new Promise(resolve => setTimeout(resolve, 1500)); // the gateway learns of the new node
	await get("CPU-bound route, 2 workers", `${cpuGateway.url}/api/bench/cpu`, { gateway: cpuGateway.proc.child.pid, worker: cpu1.child.pid, worker2: cpu2.child.pid, "nats-server": servers["nats-server"] });
	await Promise.all([cpuGateway.proc.stop(), cpu1.stop(), cpu2.stop()]);
	console.log("bench: scaling done");

	// 5. Checkout: what one order costs, on the README's cluster and on embedded defaults.
	const checkoutSeconds = quick ? 6 : 20;
	const checkoutWarmUp = quick ? 5 : 15;
	const checkouts: CheckoutResult[] = [];
	let longRun: CheckoutResult | undefined;
	{
		const embedded = await embeddedShop();
		await warmUp(embedded.shop, checkoutWarmUp);
		for (const shoppers of [20, 100]) checkouts.push(await measureCheckout(embedded.shop, "embedded", shoppers, checkoutSeconds));
		await embedded.stop();
	}
	const shop = await clusterShop(started);
	await warmUp(shop.shop, checkoutWarmUp);
	for (const shoppers of [20, 100]) checkouts.push(await measureCheckout(shop.shop, "cluster", shoppers, checkoutSeconds));
	console.log(checkoutTable(checkouts));
	if (!quick) {
		// Long enough to store 20,000+ orders: the last window must cost what the first did.
		longRun = await measureCheckout(shop.shop, "cluster, 5 minutes", 20, 300, 30);
		console.log(windowTable(longRun));
	}
	console.log("bench: checkout done");

	// Soak: mixed traffic; each node's memory after a full collection, sampled
	// from the end of a warm-up to the end. A leak shows as heap growth that the
	// GC cannot take back.
	const soakSeconds = quick ? 8 : 180;
	const warmUpSeconds = quick ? 2 : 30;
	const sampleSeconds = quick ? 2 : 15;
	const observer = new ServiceBroker({ ...brokerConfig(readEnv({ ...shop.env, NODE_ENV: "test" })), logger: false, nodeID: `bench-observer-${process.pid}` });
	await observer.start();
	const appNodes = shop.shop.nodes;
	const sample = () =>
		Promise.all(appNodes.map(node => observer.call<{ heapMb: number; rssMb: number }, object>("benchMemory.afterGc", {}, { nodeID: node.nodeID })));
	const traffic = Promise.all([
		httpLoad({ url: `${shop.shop.url}${route}`, connections: 10, seconds: soakSeconds }),
		measureCheckout(shop.shop, "soak", 5, soakSeconds),
	]);
	const samples: Awaited<ReturnType<typeof sample>>[] = [];
	for (let at = warmUpSeconds; at < soakSeconds; at += sampleSeconds) {
		await new Promise(resolve => setTimeout(resolve, (at === warmUpSeconds ? warmUpSeconds : sampleSeconds) * 1000));
		samples.push(await sample());
	}
	await traffic;
	const soakNodes = Object.fromEntries(
		appNodes.map(({ name }, i) => {
			const heap = samples.map(s => s[i].heapMb);
			const rss = samples.map(s => s[i].rssMb);
			return [name, { heapMb: heap, rssMb: rss, growth: heap[heap.length - 1] / heap[0] - 1 }];
		}),
	);
	await observer.stop();
	await shop.stop();
	console.log("bench: soak done");

	const ratio = (name: string, value: number, target?: number, note?: string): Ratio => ({ name, value, target, note });
	const h = (name: string) => http[name].rps;
	const hopCpu = httpCpu["gateway -> NATS -> worker, cache hit"];
	const localCpu = httpCpu["gateway, local action, cached in Redis"];
	const ratios: Ratio[] = [
		ratio("fastify / bare http", h("fastify") / h("bare node http")),
		ratio("gateway local cached / bare http", h("gateway, local action, cached in Redis") / h("bare node http"), 0.7,
			`as in production (Redis cache and rate limit); CPU per request ${httpCpu["bare node http"].server.toFixed(0)} µs bare vs ${localCpu.gateway.toFixed(0)} µs gateway (${(httpCpu["bare node http"].server / localCpu.gateway).toFixed(2)})`),
		ratio("gateway local cached in memory / bare http", h("gateway, local action, cached in memory") / h("bare node http"), undefined, "embedded defaults"),
		ratio("gateway cached page in memory / stock moleculer-web", h("gateway, local action, cached in memory") / h("stock moleculer-web, trivial local action"), 0.67,
			`embedded defaults; CPU per request ${httpCpu["gateway, local action, cached in memory"].gateway.toFixed(0)} µs vs ${httpCpu["stock moleculer-web, trivial local action"].server.toFixed(0)} µs stock`),
		ratio("gateway cached page in Redis / stock moleculer-web", h("gateway, local action, cached in Redis") / h("stock moleculer-web, trivial local action"), 0.5,
			`production mode; CPU per request ${localCpu.gateway.toFixed(0)} µs vs ${httpCpu["stock moleculer-web, trivial local action"].server.toFixed(0)} µs stock`),
		ratio("gateway via NATS cached / gateway local cached", h("gateway -> NATS -> worker, cache hit") / h("gateway, local action, cached in Redis"), 0.75,
			`all processes share the 2 cores, so req/s follows total CPU per request: ${hopCpu.total.toFixed(0)} µs over NATS vs ${localCpu.total.toFixed(0)} µs local`),
		ratio("gateway CPU per request, local / via NATS", localCpu.gateway / hopCpu.gateway, 0.75,
			"the NATS ratio where the gateway has a core of its own (its CPU is then the bottleneck)"),
		ratio("gateway via NATS miss / hit", h("gateway -> NATS -> worker, cache miss") / h("gateway -> NATS -> worker, cache hit"), undefined,
			`a miss reads the store: ${((httpCpu["gateway -> NATS -> worker, cache miss"].store ?? 0) / 1000).toFixed(1)} ms of its CPU per request`),
		ratio("broker calls NATS / local (100 in flight)", calls["NATS JSON, 100 in flight"].callsPerSecond / calls["local, 100 in flight"].callsPerSecond),
		ratio("broker calls Notepack / JSON over NATS (100 in flight)", calls["NATS Notepack, 100 in flight"].callsPerSecond / calls["NATS JSON, 100 in flight"].callsPerSecond),
		ratio("CPU-bound route, 2 workers / 1 worker", h("CPU-bound route, 2 workers") / h("CPU-bound route, 1 worker"), undefined, "2 cores shared by gateway, workers and load"),
		...checkoutRatios(checkouts, longRun),
		ratio("soak: largest heap growth after GC (end / warmed up)", 1 + Math.max(...Object.values(soakNodes).map(n => n.growth))),
	];

	writeReport({
		date: new Date().toISOString(),
		quick,
		machine: { cpus: os.cpus().length, node: process.version },
		http,
		calls,
		checkout: checkouts,
		longCheckout: longRun,
		httpCpu,
		soak: { seconds: soakSeconds, warmUpSeconds, sampleSeconds, nodes: soakNodes },
		ratios,
	});
}

main()
	.catch(err => {
		console.error(err);
		process.exitCode = 1;
	})
	.finally(() => stopAll());
