// `npm run bench:profile [-- <scenario>]`: where a gateway request's time
// goes. Runs one scenario under load with V8's CPU profiler on its nodes, then
// prints each node's busy time by package, its hottest functions (self time)
// and the functions that hold the most time below them (total time). The raw
// .cpuprofile files (for Chrome DevTools) stay in bench/results/profiles/.
//   nats (default)  a trivial action, gateway -> NATS -> worker (the catalog page
//                   no longer crosses: the gateway keeps it)
//   local           the cached catalog page, gateway and catalog in one node, Redis cache
//   embedded        the same on embedded defaults (in-memory cache and rate limit)
//   refused         requests refused by the rate limit (429), embedded defaults
//   pipeline        a trivial action through the whole action pipeline, embedded defaults
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { freePort, start, stopAll, waitUntil, type Proc } from "./processes";
import { httpLoad } from "./load";
import { startInfra } from "./infra";
import { summarize } from "./profile-summary";
import { BENCH_ENV } from "./shops";

const ROOT = path.join(__dirname, "..");
const PROFILES = path.join(__dirname, "results", "profiles");
const SCENARIOS = ["nats", "local", "embedded", "refused", "pipeline"] as const;
type Scenario = (typeof SCENARIOS)[number];

async function main(): Promise<void> {
	const scenario = (process.argv[2] ?? "nats") as Scenario;
	if (!SCENARIOS.includes(scenario)) throw new Error(`Unknown scenario ${scenario}: one of ${SCENARIOS.join(", ")}`);
	const { env: infra } = startInfra();
	rmSync(PROFILES, { recursive: true, force: true });
	mkdirSync(PROFILES, { recursive: true });
	const shared = scenario === "nats" || scenario === "local";
	const env = {
		...BENCH_ENV,
		...(shared && { TRANSPORTER: infra.TRANSPORTER, CACHER: infra.CACHER }),
		...(scenario === "refused" && { RATE_LIMIT: "1" }),
		NAMESPACE: `profile${randomBytes(3).toString("hex")}`,
		NODE_ENV: "test", // the in-memory demo catalog: this profiles the gateway, not the database
	};
	const profiled = (dir: string) => ({ NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.join(PROFILES, dir)}` });
	const nodes: Array<[string, Proc]> = [];
	if (scenario === "nats")
		nodes.push(["worker", await start("worker", "bench/node.ts", { ...env, ...profiled("worker"), BENCH_SERVICES: "products,bench" })]);
	const port = await freePort();
	const services = scenario === "nats" ? "api" : "api,products,bench";
	nodes.push(["gateway", await start("gateway", "bench/node.ts", { ...env, ...profiled("gateway"), BENCH_SERVICES: services, PORT: String(port) })]);
	const url = `http://127.0.0.1:${port}${scenario === "pipeline" || scenario === "nats" ? "/api/bench/echo" : "/api/products?pageSize=4"}`;
	await waitUntil(async () => [200, 429].includes((await fetch(url)).status), 30_000, url);
	await httpLoad({ url, connections: 50, seconds: 3 }); // warm-up
	const result = await httpLoad({ url, connections: 50, seconds: 8 });
	// A node writes its profile when it exits.
	for (const [, proc] of nodes) await proc.stop();
	console.log(`${Math.round(result.rps)} req/s, scenario ${scenario} (${result.non2xx} answers not 2xx)\n`);
	for (const [name] of nodes) {
		const dir = path.join(PROFILES, name);
		const [file] = readdirSync(dir).filter(entry => entry.endsWith(".cpuprofile"));
		console.log(`== ${name} (${path.relative(ROOT, path.join(dir, file))})\n${summarize(path.join(dir, file))}\n`);
	}
}

main()
	.catch(err => {
		console.error(err);
		process.exitCode = 1;
	})
	.finally(() => stopAll());
