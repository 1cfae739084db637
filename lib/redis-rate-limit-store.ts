// A moleculer-web rate-limit store kept in Redis, so every gateway node counts
// against the same budget. Fixed windows: one counter per client per window,
// expiring with it.
import type Redis from "ioredis";
import type { Service } from "moleculer";

export interface RateLimitStore {
	readonly resetTime: number;
	inc(key: string): Promise<number>;
}

export function redisRateLimitStore(client: Redis, prefix: string, logger: Service["logger"]) {
	return class RedisRateLimitStore implements RateLimitStore {
		constructor(private readonly windowMs: number) {}

		/** When the current window ends (epoch ms), for the X-Rate-Limit-Reset header. */
		get resetTime(): number {
			return (Math.floor(Date.now() / this.windowMs) + 1) * this.windowMs;
		}

		async inc(key: string): Promise<number> {
			const window = Math.floor(Date.now() / this.windowMs);
			const counter = `${prefix}:${window}:${key}`;
			try {
				const results = await client.multi().incr(counter).pexpire(counter, this.windowMs).exec();
				return Number(results?.[0]?.[1] ?? 0);
			} catch (err) {
				// Fail open: an unreachable Redis must not take the whole API down.
				logger.warn(`Rate limit store unavailable, request allowed: ${(err as Error).message}`);
				return 0;
			}
		}
	};
}
