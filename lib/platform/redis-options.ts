// ioredis options from a redis:// or rediss:// URL, for a client that takes
// one options object (Moleculer's Redis cacher) but should also get options a
// URL cannot carry.
import type { RedisOptions } from "ioredis";

export function redisOptionsFromUrl(url: string): RedisOptions {
	const parsed = new URL(url);
	const database = parsed.pathname.slice(1);
	return {
		host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), // [::1] -> ::1
		port: parsed.port ? Number(parsed.port) : 6379,
		username: decodeURIComponent(parsed.username) || undefined,
		password: decodeURIComponent(parsed.password) || undefined,
		db: database ? Number(database) : 0,
		...(parsed.protocol === "rediss:" && { tls: {} }),
	};
}

// For Redis as this app uses it, a cache and a store of counters, never the
// source of truth: a command fails at once instead of waiting for Redis, and
// the caller carries on without it (a cache miss, counting on this node). A
// request must never wait on a dead Redis.
export const FAIL_FAST: RedisOptions = {
	// ioredis' default keeps commands issued while disconnected in a queue until
	// it reconnects, which is forever while Redis is down: refuse them instead.
	enableOfflineQueue: false,
	// Commands already sent when the connection drops fail at once (the default
	// waits for 20 reconnection attempts, about 10 s); an INCRBY Redis applied
	// before dying is then counted again here too, which errs on the strict side.
	maxRetriesPerRequest: 0,
	// A Redis that is up but does not answer (paused, swapping, a partition that
	// keeps the socket open) fails the command after this long. Redis answers in
	// well under a millisecond; half a second means it is sick, not busy.
	commandTimeout: 500,
	// Reconnecting is ioredis' default: every 50 ms more per attempt, at most
	// every 2 s, forever; so shared counting and caching resume within about
	// 2 s of Redis coming back.
};
