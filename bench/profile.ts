// `npm run bench:profile`: where the NATS hop's time goes. Runs the cached
// catalog page through gateway -> NATS -> worker under load, with V8's CPU
// profiler on both nodes, then prints each one's busy time by package and its
// hottest functions. The raw .cpuprofile files (for Chrome DevTools) stay in
// bench/results/profiles/.
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { freePort, start, stopAll, waitUntil } from "./processes";
import { httpLoad } from "./load";
import { startInfra } from "./infra";

const ROOT = path.join(__dirname, "..");
const PROFILES = path.join(__dirname, "results", "profiles");

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
	nodes: ProfileNode[];
	samples: number[];
}

/** node_modules/<package> (scoped too), node:<module>, "ours", or V8's own entries ((garbage collector), (idle), ...). */
function owner(url: string, functionName: string): string {
	const inModules = url.split("node_modules/")[1];
	if (inModules) return inModules.split("/").slice(0, inModules.startsWith("@") ? 2 : 1).join("/");
	if (url.startsWith("node:")) return url;
	return url ? "ours" : functionName;
}

function summarize(file: string, top = 15): string {
	const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
	const byId = new Map(profile.nodes.map(node => [node.id, node]));
	const byOwner = new Map<string, number>();
	const byFunction = new Map<string, number>();
	let busy = 0;
	for (const id of profile.samples) {
		const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
		if (functionName === "(idle)") continue;
		busy++;
		const who = owner(url, functionName);
		byOwner.set(who, (byOwner.get(who) ?? 0) + 1);
		const where = `${functionName || "(anonymous)"} ${who === "ours" ? path.relative(ROOT, url.replace("file://", "")) : who}:${lineNumber + 1}`;
		byFunction.set(where, (byFunction.get(where) ?? 0) + 1);
	}
	const lines = (counts: Map<string, number>) =>
		[...counts]
			.sort((a, b) => b[1] - a[1])
			.slice(0, top)
			.map(([name, count]) => `  ${((count / busy) * 100).toFixed(1).padStart(5)} %  ${name}`)
			.join("\n");
	return `busy time by package:\n${lines(byOwner)}\nhottest functions (self time):\n${lines(byFunction)}`;
}

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
