// `npm run bench:profile`: where the NATS hop's time goes. Runs the cached
// catalog page through gateway -> NATS -> worker under load, with V8's CPU
// profiler on both nodes, then prints each one's busy time by package and its
// hottest functions. The raw .cpuprofile files (for Chrome DevTools) stay in
// bench/results/profiles/.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { freePort, start, stopAll, waitUntil } from "./processes";
import { httpLoad } from "./load";
import { startInfra } from "./infra";
import { summarize } from "./profile-summary";

const ROOT = path.join(__dirname, "..");
const PROFILES = path.join(__dirname, "results", "profiles");

async function main(): Promise<void> {
	const { env: infra } = startInfra();
	rmSync(PROFILES, { recursive: true, force: true });
	mkdirSync(PROFILES, { recursive: true });
	const env = {
		TRANSPORTER: infra.TRANSPORTER,
		CACHER: infra.CACHER,
		NAMESPACE: `profile${randomBytes(3).toString("hex")}`,
		NODE_ENV: "test", // the in-memory demo catalog: this profiles cache hits, not the database
		METRICS_PORT: "0",
		RATE_LIMIT: "1000000000",
	};
	const profiled = (dir: string) => ({ NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.join(PROFILES, dir)}` });
	const worker = await start("worker", "bench/node.ts", { ...env, ...profiled("worker"), BENCH_SERVICES: "products" });
	const port = await freePort();
	const gateway = await start("gateway", "bench/node.ts", { ...env, ...profiled("gateway"), BENCH_SERVICES: "api", PORT: String(port) });
	const url = `http://127.0.0.1:${port}/api/products?pageSize=4`;
	await waitUntil(async () => (await fetch(url)).status === 200, 30_000, url);
	await httpLoad({ url, connections: 50, seconds: 3 }); // warm-up
	const result = await httpLoad({ url, connections: 50, seconds: 8 });
	// A node writes its profile when it exits.
	await gateway.stop();
	await worker.stop();
	console.log(`${Math.round(result.rps)} req/s through gateway -> NATS -> worker (cache hit)\n`);
	for (const node of ["gateway", "worker"]) {
		const dir = path.join(PROFILES, node);
		const [file] = readdirSync(dir).filter(name => name.endsWith(".cpuprofile"));
		console.log(`== ${node} (${path.relative(ROOT, path.join(dir, file))})\n${summarize(path.join(dir, file))}\n`);
	}
}

main()
	.catch(err => {
		console.error(err);
		process.exitCode = 1;
	})
	.finally(() => stopAll());
