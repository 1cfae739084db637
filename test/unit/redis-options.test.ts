// The Redis cacher is configured by an options object; these options must say
// what the REDIS/CACHER URL says.
import { redisOptionsFromUrl } from "../../lib/platform/redis-options";

describe("redisOptionsFromUrl", () => {
	it("reads host, port and database", () => {
		expect(redisOptionsFromUrl("redis://cache.internal:6380/2")).toEqual({
			host: "cache.internal",
			port: 6380,
			db: 2,
			username: undefined,
			password: undefined,
		});
	});

	it("defaults the port and database, and decodes credentials", () => {
		expect(redisOptionsFromUrl("redis://app:p%40ss%3Aword@10.0.0.5")).toEqual({
			host: "10.0.0.5",
			port: 6379,
			db: 0,
			username: "app",
			password: "p@ss:word",
		});
	});

	it("keeps a password given without a user name", () => {
		expect(redisOptionsFromUrl("redis://:secret@127.0.0.1:6379")).toMatchObject({ username: undefined, password: "secret" });
	});

	it("turns on TLS for rediss:// and unwraps IPv6 hosts", () => {
		expect(redisOptionsFromUrl("rediss://[::1]:6390")).toMatchObject({ host: "::1", port: 6390, tls: {} });
		expect(redisOptionsFromUrl("redis://[::1]:6390")).not.toHaveProperty("tls");
	});
});
