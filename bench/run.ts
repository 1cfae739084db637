// `npm run bench [-- --quick]`: starts what it measures on loopback (real
// NATS, Redis and the MongoDB stand-in through scripts/infra.sh), drives load from
// separate processes, measures the baselines in the same run, and reports
// every figure as a ratio (bench/REPORT.md, bench/results/latest.json).
import os from "node:os";
import { randomBytes } from "node:crypto";
import { ServiceBroker } from "moleculer";
import { brokerConfig } from "../moleculer.config";
import { readEnv } from "../lib/platform/env";
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

const STOCK = "stock moleculer-web, trivial local action";
/** Embedded defaults, and as in production (Redis cache and rate-limit store). */
const GATEWAY_MODES = ["embedded", "Redis"] as const;
type GatewayMode = (typeof GATEWAY_MODES)[number];
const cachedPage = (mode: GatewayMode) => `gateway, local action, cached in ${mode === "embedded" ? "memory" : "Redis"}`;
const refused = (what: string, mode: GatewayMode) => `gateway, refused: ${what}, ${mode}`;
const REFUSALS = ["rate limit (429)", "no token (401)", "unknown route (404)"];

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
	const get = async (
		name: string,
		url: string,
		pids: Record<string, number | undefined>,
		extra: { uniqueQuery?: string; headers?: Record<string, string> } = {},
	) => {
		await httpLoad({ url, connections: CONNECTIONS, seconds: WARM_UP_SECONDS, ...extra });
		const runs: HttpResult[] = [];
		const cpuUsed = cpuSince(pids);
		for (let i = 0; i < RUNS; i++) runs.push(await httpLoad({ url, connections: CONNECTIONS, seconds: SECONDS, ...extra }));
		httpCpu[name] = perUnit(cpuUsed(), sum(runs.map(r => r.loadCpuMicros)), sum(runs.map(r => r.requests)));
		http[name] = runs.sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)];
	};
	const route = "/api/products?pageSize=4";

	// The catalog the HTTP scenarios serve: the demo catalog in a database of
	// its own, seeded by one development start (production never seeds).
	const catalogDb = { MONGO_URI: `${infra.MONGO_URI}bench${randomBytes(3).toString("hex")}` };
	await (await start("seed", "bench/node.ts", { ...catalogDb, NODE_ENV: "development", BENCH_SERVICES: "products" })).stop();
	const production = { ...common, ...catalogDb, NODE_ENV: "production", JWT_SECRET: randomBytes(32).toString("hex") };

	// 1. One process: the baselines, then the gateway serving the cached catalog
	//    page, a 304 for it, a trivial action through the whole action pipeline,
	//    and what it refuses at its front door. On embedded defaults (in-memory
	//    cache and rate limit), then as in production (Redis cache and rate-limit store).
	const body = await (async () => {
		const seeded = await gateway({ ...production, CACHER: "" }, "api,products");
		await ready(seeded.url, route);
		const text = await (await fetch(`${seeded.url}${route}`)).text();
		await seeded.proc.stop();
		return text;
	})();
	for (const [name, entry] of [
		["bare node http", "bench/servers/bare-http.ts"],
		["fastify", "bench/servers/fastify.ts"],
		[STOCK, "bench/servers/stock-moleculer-web.ts"],
	]) {
		const port = await freePort();
		const proc = await start(name, entry, { PORT: String(port), BENCH_BODY: body });
		await get(name, `http://127.0.0.1:${port}${route}`, { server: proc.child.pid });
		await proc.stop();
	}
	for (const mode of GATEWAY_MODES) {
		const env = mode === "embedded" ? { ...production, CACHER: "" } : cluster(production);
		const pids = (node: { proc: Proc }) => ({ gateway: node.proc.child.pid, ...(mode === "Redis" && { redis: servers.redis }) });
		const node = await gateway(env, "api,products,bench");
		await ready(node.url, route);
		await get(cachedPage(mode), `${node.url}${route}`, pids(node));
		const etag = (await fetch(`${node.url}${route}`)).headers.get("etag") ?? "";
		await get(`gateway, 304 Not Modified, ${mode}`, `${node.url}${route}`, pids(node), { headers: { "If-None-Match": etag } });
		await get(`gateway, trivial action, ${mode}`, `${node.url}/api/bench/echo`, pids(node));
		await get(refused("no token (401)", mode), `${node.url}/api/bench/private`, pids(node));
		await get(refused("unknown route (404)", mode), `${node.url}/api/no-such-route`, pids(node));
		await node.proc.stop();
		// A budget of one request per window: all but the first are refused.
		const limited = await gateway({ ...env, RATE_LIMIT: "1" }, "api,products");
		await ready(limited.url, route);
		await get(refused("rate limit (429)", mode), `${limited.url}${route}`, pids(limited));
		await limited.proc.stop();
	}
	console.log(`bench: HTTP baselines done (body ${body.length} bytes)`);

	// 2. The same, with the catalog on a node of its own: gateway -> NATS -> worker.
	const natsEnv = cluster(production);
	const worker = await start("catalog", "bench/node.ts", { ...natsEnv, BENCH_SERVICES: "products,bench" });
	const remote = await gateway(natsEnv, "api");
	await ready(remote.url, route);
	const hop = { gateway: remote.proc.child.pid, worker: worker.child.pid, ...servers };
	await get("gateway -> NATS -> worker, cache hit", `${remote.url}${route}`, hop);
	await get("gateway -> NATS -> worker, cache miss", `${remote.url}/api/products?pageSize=4&sort=price`, hop, { uniqueQuery: "q" });
	await get("gateway -> NATS -> worker, trivial action", `${remote.url}/api/bench/echo`, hop);
	await remote.proc.stop();
	await worker.stop();
	await dropDatabases(infra.MONGO_URI, new URL(catalogDb.MONGO_URI).pathname.slice(1));
	console.log("bench: NATS hop done");

	// 3. Broker calls without HTTP: local and over NATS, 1 and 100 in flight, JSON and Notepack.
	for (const serializer of ["JSON", "Notepack"]) {
		const env = cluster({ SERIALIZER: serializer, NODE_ENV: "test" });
		const echo = await start(`echo:${serializer}`, "bench/node.ts", { ...env, BENCH_SERVICES: "bench" });
		for (const concurrency of [1, 100]) {
			const settings = {
				BENCH_CONCURRENCY: String(concurrency),
				BENCH_SECONDS: String(Math.max(2, SECONDS - 1)),
				SERIALIZER: serializer,
				NODE_ENV: "test",
			};
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
	await get("CPU-bound route, 1 worker", `${cpuGateway.url}/api/bench/cpu`, {
		gateway: cpuGateway.proc.child.pid,
		worker: cpu1.child.pid,
		"nats-server": servers["nats-server"],
	});
	const cpu2 = await start("cpu2", "bench/node.ts", { ...cpuEnv, BENCH_SERVICES: "bench" });
	await new Promise(resolve => setTimeout(resolve, 1500)); // the gateway learns of the new node
	await get("CPU-bound route, 2 workers", `${cpuGateway.url}/api/bench/cpu`, {
		gateway: cpuGateway.proc.child.pid,
		worker: cpu1.child.pid,
		worker2: cpu2.child.pid,
		"nats-server": servers["nats-server"],
	});
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
	const stockCpu = httpCpu[STOCK].server;
	const gatewayCpu = (name: string) => httpCpu[name].gateway.toFixed(0);
	const ratios: Ratio[] = [
		ratio("fastify / bare http", h("fastify") / h("bare node http")),
		ratio(
			"gateway local cached / bare http",
			h("gateway, local action, cached in Redis") / h("bare node http"),
			0.7,
			`as in production (Redis cache and rate limit); CPU per request ${httpCpu["bare node http"].server.toFixed(0)} µs bare vs ${localCpu.gateway.toFixed(0)} µs gateway (${(httpCpu["bare node http"].server / localCpu.gateway).toFixed(2)})`,
		),
		ratio("gateway local cached in memory / bare http", h("gateway, local action, cached in memory") / h("bare node http"), undefined, "embedded defaults"),
		...GATEWAY_MODES.map(mode =>
			ratio(
				`gateway cached page (${mode}) / stock moleculer-web`,
				h(cachedPage(mode)) / h(STOCK),
				mode === "embedded" ? 0.67 : 0.5,
				`CPU per request ${gatewayCpu(cachedPage(mode))} µs vs ${stockCpu.toFixed(0)} µs stock`,
			),
		),
		...GATEWAY_MODES.map(mode =>
			ratio(
				`gateway trivial action, whole pipeline (${mode}) / stock moleculer-web`,
				h(`gateway, trivial action, ${mode}`) / h(STOCK),
				undefined,
				`CPU per request ${gatewayCpu(`gateway, trivial action, ${mode}`)} µs vs ${stockCpu.toFixed(0)} µs stock: every request the page cache does not answer`,
			),
		),
		...GATEWAY_MODES.map(mode =>
			ratio(
				`304 / 200 for the same page (${mode})`,
				h(`gateway, 304 Not Modified, ${mode}`) / h(cachedPage(mode)),
				1.2,
				`CPU per request ${gatewayCpu(`gateway, 304 Not Modified, ${mode}`)} vs ${gatewayCpu(cachedPage(mode))} µs`,
			),
		),
		...GATEWAY_MODES.flatMap(mode =>
			REFUSALS.map(what =>
				ratio(
					`cached page / refused ${what}, gateway CPU per request (${mode})`,
					httpCpu[cachedPage(mode)].gateway / httpCpu[refused(what, mode)].gateway,
					2,
					`${gatewayCpu(refused(what, mode))} µs refused vs ${gatewayCpu(cachedPage(mode))} µs served; bare http spends ${httpCpu["bare node http"].server.toFixed(0)} µs on any answer`,
				),
			),
		),
		ratio(
			"gateway via NATS cached / gateway local cached",
			h("gateway -> NATS -> worker, cache hit") / h("gateway, local action, cached in Redis"),
			0.75,
			`all processes share the 2 cores, so req/s follows total CPU per request: ${hopCpu.total.toFixed(0)} µs over NATS vs ${localCpu.total.toFixed(0)} µs local`,
		),
		ratio(
			"gateway CPU per request, local / via NATS",
			localCpu.gateway / hopCpu.gateway,
			0.75,
			"the NATS ratio where the gateway has a core of its own (its CPU is then the bottleneck)",
		),
		ratio(
			"gateway via NATS trivial action / local trivial action (Redis)",
			h("gateway -> NATS -> worker, trivial action") / h("gateway, trivial action, Redis"),
			undefined,
			`a request the page cache does not answer crosses NATS: ${httpCpu["gateway -> NATS -> worker, trivial action"].total.toFixed(0)} µs over NATS vs ${httpCpu["gateway, trivial action, Redis"].total.toFixed(0)} µs local, all processes`,
		),
		ratio(
			"gateway via NATS miss / hit",
			h("gateway -> NATS -> worker, cache miss") / h("gateway -> NATS -> worker, cache hit"),
			undefined,
			`a miss reads the store: ${((httpCpu["gateway -> NATS -> worker, cache miss"].store ?? 0) / 1000).toFixed(1)} ms of its CPU per request`,
		),
		ratio("broker calls NATS / local (100 in flight)", calls["NATS JSON, 100 in flight"].callsPerSecond / calls["local, 100 in flight"].callsPerSecond),
		ratio(
			"broker calls Notepack / JSON over NATS (100 in flight)",
			calls["NATS Notepack, 100 in flight"].callsPerSecond / calls["NATS JSON, 100 in flight"].callsPerSecond,
		),
		ratio(
			"CPU-bound route, 2 workers / 1 worker",
			h("CPU-bound route, 2 workers") / h("CPU-bound route, 1 worker"),
			undefined,
			"2 cores shared by gateway, workers and load",
		),
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
