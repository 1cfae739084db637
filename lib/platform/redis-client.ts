// A Redis client for a side job (rate limits, attempt counters) that must
// never hang a request: no offline queue, one retry, errors logged not thrown.
import Redis from "ioredis";
import type { Service } from "moleculer";

export function sideRedisClient(url: string, purpose: string, logger: Service["logger"]): Redis {
	const client = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
	client.on("error", err => logger.warn(`${purpose} Redis: ${err.message}`));
	return client;
}
