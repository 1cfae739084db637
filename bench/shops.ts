// The shops the checkout benchmark runs against: the README's cluster on the
// local servers (gateway, catalog, identity and commerce nodes) and embedded
// defaults (every service in one process, NeDB files, no servers).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { freePort, start, waitUntil, type Proc } from "./processes";
import type { Shop } from "./checkout";
import { deleteStreams, dropDatabases, type Infra } from "./infra";
import { DEVELOPMENT_ADMIN } from "../lib/platform/env";

/** As the README runs them. */
const CLUSTER_NODES = {
	catalog: "products",
	identity: "auth,users",
	commerce: "inventory,carts,orders,payments,shipping,notifications",
};
const ALL_SERVICES = ["api", ...Object.values(CLUSTER_NODES)].join(",");

/** Production-like: metrics, request ids and rate limiting on (with limits that never bite). */
export const BENCH_ENV = { METRICS_PORT: "0", RATE_LIMIT: "1000000000", AUTH_RATE_LIMIT: "1000000000" };

export const PROFILES = path.join(__dirname, "results", "profiles");

/** BENCH_PROFILE=commerce,gateway: those nodes run under V8's CPU profiler, writing to bench/results/profiles/<node>. */
function profiled(node: string): Record<string, string> {
	const wanted = (process.env.BENCH_PROFILE ?? "").split(",");
	return wanted.includes(node) ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.join(PROFILES, node)}` } : {};
}

export interface RunningShop {
	shop: Shop;
	env: Record<string, string>;
	stop(): Promise<void>;
}

/** Ready, and (on a cluster) the gateway reaches the catalog, identity and commerce nodes. */
async function ready(url: string): Promise<void> {
	await waitUntil(async () => (await fetch(`${url}/health/ready`)).status === 200, 60_000, `${url}/health/ready`);
	const login = () =>
		fetch(`${url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(DEVELOPMENT_ADMIN) });
	await waitUntil(async () => (await login()).status === 200, 60_000, "the identity node");
	const { accessToken } = (await (await login()).json()) as { accessToken: string };
	const products = async () => (await (await fetch(`${url}/api/products?pageSize=1`)).json()) as { rows: { id: string }[] };
	await waitUntil(async () => (await products()).rows.length > 0, 60_000, "the catalog node");
	const productId = (await products()).rows[0].id;
	await waitUntil(async () => (await fetch(`${url}/api/inventory/${productId}`)).status === 200, 60_000, "the inventory service");
	await waitUntil(
		async () => (await fetch(`${url}/api/cart`, { headers: { authorization: `Bearer ${accessToken}` } })).status === 200,
		60_000,
		"the carts service",
	);
}

export async function clusterShop(infra: Infra): Promise<RunningShop> {
	const namespace = `bench${randomBytes(3).toString("hex")}`;
	const env = {
		...BENCH_ENV,
		TRANSPORTER: infra.env.TRANSPORTER,
		CACHER: infra.env.CACHER,
		MONGO_URI: `${infra.env.MONGO_URI}${namespace}`,
		NAMESPACE: namespace,
	};
	const port = await freePort();
	const nodes: Proc[] = await Promise.all([
		start("gateway", "bench/node.ts", { ...env, BENCH_SERVICES: "api", PORT: String(port), ...profiled("gateway") }),
		...Object.entries(CLUSTER_NODES).map(([name, services]) => start(name, "bench/node.ts", { ...env, BENCH_SERVICES: services, ...profiled(name) })),
	]);
	const url = `http://127.0.0.1:${port}`;
	await ready(url);
	return {
		shop: { url, nodes, servers: infra.pids },
		env,
		stop: async () => {
			await Promise.all(nodes.map(node => node.stop()));
			await dropDatabases(infra.env.MONGO_URI, new URL(env.MONGO_URI).pathname.slice(1));
			await deleteStreams(infra.env.TRANSPORTER, namespace);
		},
	};
}

export async function embeddedShop(): Promise<RunningShop> {
	const dataDir = mkdtempSync(path.join(os.tmpdir(), "bench-embedded-"));
	const env = { ...BENCH_ENV, TRANSPORTER: "", CACHER: "", MONGO_URI: "", DATA_DIR: dataDir };
	const port = await freePort();
	const node = await start("embedded", "bench/node.ts", { ...env, BENCH_SERVICES: ALL_SERVICES, PORT: String(port), ...profiled("embedded") });
	const url = `http://127.0.0.1:${port}`;
	await ready(url);
	return {
		shop: { url, nodes: [node], servers: {} },
		env,
		stop: async () => {
			await node.stop();
			rmSync(dataDir, { recursive: true, force: true });
		},
	};
}
