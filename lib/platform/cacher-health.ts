// Whether the broker's cache can answer. Only the Redis cacher can be down;
// an in-process cache is always there.
import type { ServiceBroker } from "moleculer";
import type Redis from "ioredis";

function redisClient(broker: ServiceBroker): Redis | undefined {
	return (broker.cacher as unknown as { client?: Redis } | null)?.client;
}

/** Resolves once the cache client is ready, or after `timeoutMs` (readiness then reports it). */
export async function waitForCacher(broker: ServiceBroker, timeoutMs: number): Promise<void> {
	const client = redisClient(broker);
	if (!client || client.status === "ready") return;
	await new Promise<void>(resolve => {
		const timer = setTimeout(done, timeoutMs);
		client.once("ready", done);
		function done() {
			clearTimeout(timer);
			client!.off("ready", done);
			resolve();
		}
	});
	if ((client.status as string) !== "ready") broker.logger.warn(`Cache not ready after ${timeoutMs} ms; continuing without it`);
}

/** A round trip to the cache store, bounded by `timeoutMs`. */
export async function cacherReachable(broker: ServiceBroker, timeoutMs: number): Promise<boolean> {
	const client = redisClient(broker);
	if (!client) return true;
	if (client.status !== "ready") return false;
	const timeout = new Promise<boolean>(resolve => setTimeout(resolve, timeoutMs, false).unref());
	return Promise.race([
		client.ping().then(
			() => true,
			() => false,
		),
		timeout,
	]);
}
