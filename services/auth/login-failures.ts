// Failed logins per (account, client address). A few mistakes are free; after
// that each further failure locks that pair for twice as long as the last (1 s,
// 2 s, 4 s, ... up to 15 min), and a successful login forgets them. Keyed by
// the pair, so a third party guessing from elsewhere slows only themselves:
// the owner's own address is never locked by someone else's failures.
// In Redis when there is one, so every auth node sees the same count; while
// Redis cannot be reached, each auth node counts and locks in its own memory.
import type Redis from "ioredis";

/** Failures of a pair that cost nothing: typos, a forgotten caps lock. */
export const FREE_FAILURES = 5;
export const MAX_LOCK_MS = 15 * 60_000;
/** A pair's failures are forgotten this long after its last one. */
export const FAILURE_MEMORY_MS = 60 * 60_000;

/** How long the pair is locked after its `failures`-th failure in a row. */
export function lockAfter(failures: number): number {
	if (failures <= FREE_FAILURES) return 0;
	return Math.min(1000 * 2 ** (failures - FREE_FAILURES - 1), MAX_LOCK_MS);
}

export interface LoginFailureStore {
	/** Milliseconds the pair is still locked for; 0 when it may try. */
	lockedFor(pair: string): Promise<number>;
	/** Counts a failure and locks the pair as lockAfter() says. */
	failed(pair: string): Promise<void>;
	/** A successful login: the pair starts again from nothing. */
	succeeded(pair: string): Promise<void>;
}

interface Entry {
	failures: number;
	lockedUntil: number;
	forgetAt: number;
}

/** In process, for embedded mode. */
export class MemoryLoginFailures implements LoginFailureStore {
	private readonly entries = new Map<string, Entry>();
	/** Old pairs are swept when the map doubles: memory stays bounded at O(1) per failure. */
	private sweepAt = 10_000;

	async lockedFor(pair: string): Promise<number> {
		return Math.max(0, (this.live(pair)?.lockedUntil ?? 0) - Date.now());
	}

	async failed(pair: string): Promise<void> {
		const now = Date.now();
		const failures = (this.live(pair)?.failures ?? 0) + 1;
		this.entries.set(pair, { failures, lockedUntil: now + lockAfter(failures), forgetAt: now + FAILURE_MEMORY_MS });
		if (this.entries.size >= this.sweepAt) this.forgetOld(now);
	}

	async succeeded(pair: string): Promise<void> {
		this.entries.delete(pair);
	}

	private live(pair: string): Entry | undefined {
		const entry = this.entries.get(pair);
		return entry && entry.forgetAt > Date.now() ? entry : undefined;
	}

	private forgetOld(now: number): void {
		for (const [pair, entry] of this.entries) if (entry.forgetAt <= now) this.entries.delete(pair);
		this.sweepAt = Math.max(10_000, this.entries.size * 2);
	}
}

// One round trip per failure: count it, remember it for a while, and lock.
const FAIL = `
local failures = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return failures`;

type FailingRedis = Redis & { loginFailed(counter: string, memoryMs: number): Promise<number> };

/**
 * Shared by every auth node. While Redis cannot be reached (or does not answer
 * in time), failures are counted and pairs locked in this node's memory, so a
 * guesser still meets the lock, on each auth node by itself. A lock earned on
 * this node during an outage still holds after Redis is back, until it ends.
 */
export class RedisLoginFailures implements LoginFailureStore {
	private readonly client: FailingRedis;
	private readonly local = new MemoryLoginFailures();

	constructor(
		client: Redis,
		private readonly prefix: string,
	) {
		client.defineCommand("loginFailed", { numberOfKeys: 1, lua: FAIL });
		this.client = client as FailingRedis;
	}

	async lockedFor(pair: string): Promise<number> {
		const here = await this.local.lockedFor(pair);
		if (!this.reachable) return here;
		const shared = await this.client.pttl(this.key("lock", pair)).catch(() => 0);
		return Math.max(here, shared);
	}

	async failed(pair: string): Promise<void> {
		if (!this.reachable) return this.local.failed(pair);
		try {
			const lockMs = lockAfter(await this.client.loginFailed(this.key("failures", pair), FAILURE_MEMORY_MS));
			if (lockMs > 0) await this.client.set(this.key("lock", pair), "1", "PX", lockMs);
		} catch {
			await this.local.failed(pair);
		}
	}

	async succeeded(pair: string): Promise<void> {
		await this.local.succeeded(pair);
		await this.client.del(this.key("failures", pair), this.key("lock", pair)).catch(() => undefined);
	}

	/** Disconnected (the client logs it once): no round trip that can only fail. */
	private get reachable(): boolean {
		return this.client.status === "ready";
	}

	private key(kind: string, pair: string): string {
		return `${this.prefix}:${kind}:${pair}`;
	}
}
