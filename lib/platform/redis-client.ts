// A Redis client for a side job (rate limits, attempt counters) that must
// never hang a request (FAIL_FAST). Its users count on this node while it is
// not ready; an outage is logged once when it starts and once when it ends,
// not on every reconnection attempt.
import Redis from "ioredis";
import type { Service } from "moleculer";
import { FAIL_FAST } from "./redis-options";

export function sideRedisClient(url: string, purpose: string, logger: Service["logger"]): Redis {
	const client = new Redis(url, FAIL_FAST);
	let down = false;
	client.on("error", err => {
		if (down) return;
		down = true;
		logger.warn(`${purpose}: Redis unreachable (${err.message}); counting on this node alone until it is back`);
	});
	client.on("ready", () => {
		if (!down) return;
		down = false;
		logger.info(`${purpose}: Redis is back; counting is shared again`);
	});
	return client;
}
