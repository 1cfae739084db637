// Fixed-window counters for rate limits (moleculer-web's StoreFactory shape):
// in Redis, so every node counts against the same budget, or in process for
// embedded mode. One counter per key per window, expiring with it.
import type Redis from "ioredis";
import type { Service } from "moleculer";

export interface RateLimitStore {
	readonly resetTime: number;
	inc(key: string): Promise<number>;
}

export type RateLimitStoreClass = new (windowMs: number) => RateLimitStore;

export class MemoryRateLimitStore implements RateLimitStore {
	private window = -1;
	private counts = new Map<string, number>();

	constructor(private readonly windowMs: number) {}

	get resetTime(): number {
		return (Math.floor(Date.now() / this.windowMs) + 1) * this.windowMs;
	}

	async inc(key: string): Promise<number> {
		const window = Math.floor(Date.now() / this.windowMs);
		if (window !== this.window) {
			this.window = window; // a new window forgets the old one: memory stays bounded
			this.counts = new Map();
		}
		const count = (this.counts.get(key) ?? 0) + 1;
		this.counts.set(key, count);
		return count;
	}
}

export function redisRateLimitStore(client: Redis, prefix: string, logger: Service["logger"]): RateLimitStoreClass {
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
