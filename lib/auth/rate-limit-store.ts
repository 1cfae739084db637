// Fixed-window counters for rate limits (moleculer-web's StoreFactory shape):
// in Redis, so every node counts against the same budget, or in process for
// embedded mode. One counter per key per window, expiring with it. While Redis
// is unreachable, the Redis store counts in this node's memory: the limit
// still holds on each node (a client spreading requests over N nodes gets at
// most N times the limit), and counting is shared again once Redis is back.
import type Redis from "ioredis";

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
		return this.count(key);
	}

	/** inc(), at once. */
	count(key: string): number {
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

// The hits of one event-loop turn on one counter go to Redis as a single
// command, which adds them all and, on a window's first hits, sets the expiry.
// Each hit still gets its exact place in the shared count. (A command per hit
// cost the gateway a seventh of its CPU under load, most of it in the socket
// write; under load many requests arrive in one turn.)
const ADD = "local count = redis.call('INCRBY', KEYS[1], ARGV[2]) if count == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return count";

type CountingRedis = Redis & { rateLimitAdd(key: string, windowMs: number, hits: number): Promise<number> };

/** The hits on one counter waiting for this turn's command, in arrival order. */
interface Waiting {
	key: string;
	hits: Array<(count: number) => void>;
}

export function redisRateLimitStore(client: Redis, prefix: string): RateLimitStoreClass {
	client.defineCommand("rateLimitAdd", { numberOfKeys: 1, lua: ADD });
	const counting = client as CountingRedis;
	return class RedisRateLimitStore implements RateLimitStore {
		private waiting = new Map<string, Waiting>();
		/** This node's own count, used while Redis cannot be reached. */
		private readonly local: MemoryRateLimitStore;

		constructor(private readonly windowMs: number) {
			this.local = new MemoryRateLimitStore(windowMs);
		}

		/** When the current window ends (epoch ms), for the X-Rate-Limit-Reset header. */
		get resetTime(): number {
			return (Math.floor(Date.now() / this.windowMs) + 1) * this.windowMs;
		}

		inc(key: string): Promise<number> {
			// Disconnected (the client logs it once): no round trip that can only fail.
			if (client.status !== "ready") return Promise.resolve(this.local.count(key));
			const window = Math.floor(Date.now() / this.windowMs);
			const counter = `${prefix}:${window}:${key}`;
			if (this.waiting.size === 0) setImmediate(() => this.send());
			return new Promise(resolve => {
				const waiting = this.waiting.get(counter);
				if (waiting) waiting.hits.push(resolve);
				else this.waiting.set(counter, { key, hits: [resolve] });
			});
		}

		private send(): void {
			const batch = this.waiting;
			this.waiting = new Map();
			for (const [counter, { key, hits }] of batch) {
				counting.rateLimitAdd(counter, this.windowMs, hits.length).then(
					total => hits.forEach((resolve, i) => resolve(total - hits.length + 1 + i)),
					// Redis went away or did not answer in time (FAIL_FAST): this node counts.
					() => hits.forEach(resolve => resolve(this.local.count(key))),
				);
			}
		}
	};
}
