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
