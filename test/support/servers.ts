// The real servers tests run against: where they are, whether they answer, and
// a describe() that runs only when they do. Missing servers skip the suite
// loudly, or fail the run when REQUIRE_INFRA=1 (CI).
import net from "node:net";

import type { EnvOverrides } from "./app";

export type ServerName = "nats" | "redis" | "mongo" | "rabbitmq" | "prometheus" | "jaeger";

/** Jaeger: its query API, where tests read traces back, and its Zipkin receiver, where nodes send spans. */
export const jaegerUrls = {
	query: process.env.TEST_JAEGER_URL ?? "http://127.0.0.1:16686",
	zipkin: process.env.TEST_JAEGER_ZIPKIN_URL ?? "http://127.0.0.1:9411",
};

export const serverUrls: Record<ServerName, string> = {
	nats: process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222",
	redis: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
	mongo: process.env.TEST_MONGO_URL ?? "mongodb://127.0.0.1:27017",
	// RabbitMQ lets its default guest user in over loopback only, which is where scripts/infra.sh runs it.
	rabbitmq: process.env.TEST_RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672",
	prometheus: process.env.TEST_PROMETHEUS_URL ?? "http://127.0.0.1:9090",
	jaeger: jaegerUrls.query,
};

/** Every address a server must answer on to count as up. */
export const serverAddresses: Record<ServerName, string[]> = {
	nats: [serverUrls.nats],
	redis: [serverUrls.redis],
	mongo: [serverUrls.mongo],
	rabbitmq: [serverUrls.rabbitmq],
	prometheus: [serverUrls.prometheus],
	jaeger: [jaegerUrls.query, jaegerUrls.zipkin],
};

/** A cluster's env on the real servers: NATS, the Redis cacher, and a namespace and database of its own. */
export function clusterEnv(namespace: string, extra: EnvOverrides = {}): EnvOverrides {
	return { TRANSPORTER: serverUrls.nats, CACHER: serverUrls.redis, MONGO_URI: `${serverUrls.mongo}/${namespace}`, NAMESPACE: namespace, ...extra };
}

const AVAILABLE_FLAG = "TEST_SERVERS_AVAILABLE";

export function reachable(url: string, timeoutMs = 1000): Promise<boolean> {
	const { hostname, port } = new URL(url);
	return new Promise(resolve => {
		const socket = net.connect({ host: hostname, port: Number(port) });
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(timeoutMs, () => done(false));
		socket.once("connect", () => done(true));
		socket.once("error", () => done(false));
	});
}

/** Called once by jest's globalSetup; workers read the result from the env. */
export async function probeServers(): Promise<ServerName[]> {
	const names = Object.keys(serverUrls) as ServerName[];
	const up = await Promise.all(names.map(async name => (await Promise.all(serverAddresses[name].map(url => reachable(url)))).every(Boolean)));
	const available = names.filter((_, i) => up[i]);
	process.env[AVAILABLE_FLAG] = available.join(",");
	return available;
}

export function serversAvailable(needed: ServerName[]): boolean {
	const available = (process.env[AVAILABLE_FLAG] ?? "").split(",");
	return needed.every(name => available.includes(name));
}

/** describe() for suites that need real servers. */
export function describeWithServers(needed: ServerName[], title: string, body: () => void): void {
	describeWhen(serversAvailable(needed), `needs ${needed.join(", ")} (start them with: npm run infra:up)`, title, body);
}

/** describe() when what a suite needs is there; else skipped loudly, or failed under REQUIRE_INFRA=1 (CI). */
export function describeWhen(ready: boolean, reason: string, title: string, body: () => void): void {
	if (ready) return describe(title, body);
	if (process.env.REQUIRE_INFRA === "1") {
		describe(title, () =>
			it(`cannot run: ${reason}`, () => {
				throw new Error(`REQUIRE_INFRA=1 but ${reason}`);
			}),
		);
		return;
	}
	console.warn(`SKIPPED "${title}": ${reason}`);
	describe.skip(title, body);
}
