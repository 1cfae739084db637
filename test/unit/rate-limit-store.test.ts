// The shared rate-limit store against a real Redis: two gateways, one budget;
// without Redis, each gateway its own budget.
import Redis from "ioredis";
import { redisRateLimitStore } from "../../lib/auth/rate-limit-store";
import { describeWithServers, serverUrls } from "../support/servers";
import { uniqueName } from "../support/app";

describeWithServers(["redis"], "Redis rate-limit store", () => {
	let a: Redis;
	let b: Redis;
	beforeAll(async () => {
		a = new Redis(serverUrls.redis);
		b = new Redis(serverUrls.redis);
		await Promise.all([a.ping(), b.ping()]); // connected: a store counts on the node until its client is
	});
	afterAll(async () => {
		await a.quit();
		await b.quit();
	});

	it("counts one client's requests across two gateway processes", async () => {
		const prefix = uniqueName("rl");
		const gatewayA = new (redisRateLimitStore(a, prefix))(60_000);
		const gatewayB = new (redisRateLimitStore(b, prefix))(60_000);
		expect(await gatewayA.inc("203.0.113.9")).toBe(1);
		expect(await gatewayB.inc("203.0.113.9")).toBe(2);
		expect(await gatewayA.inc("203.0.113.9")).toBe(3);
		expect(await gatewayB.inc("198.51.100.1")).toBe(1);
	});

	it("gives every request of a burst its own place in the shared count", async () => {
		const prefix = uniqueName("rl");
		const gatewayA = new (redisRateLimitStore(a, prefix))(60_000);
		const gatewayB = new (redisRateLimitStore(b, prefix))(60_000);
		// Hits arriving in the same event-loop turn go to Redis together.
		const counts = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? gatewayA : gatewayB).inc("203.0.113.7")));
		expect([...counts].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
		// Arrival order within one gateway is kept.
		const fromA = counts.filter((_, i) => i % 2);
		expect(fromA).toEqual([...fromA].sort((x, y) => x - y));
		const [key] = await a.keys(`${prefix}:*`);
		expect(await a.pttl(key)).toBeGreaterThan(0);
	});

	it("starts a fresh count in the next window and lets old counters expire", async () => {
		const prefix = uniqueName("rl");
		const store = new (redisRateLimitStore(a, prefix))(1000);
		await store.inc("c");
		await store.inc("c");
		const [key] = await a.keys(`${prefix}:*`);
		expect(await a.pttl(key)).toBeGreaterThan(0);
		await new Promise(resolve => setTimeout(resolve, store.resetTime - Date.now() + 10));
		expect(await store.inc("c")).toBe(1);
	});

	it("counts on each gateway by itself when Redis cannot be reached", async () => {
		const offline = () => new Redis("redis://127.0.0.1:1", { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
		const [clientA, clientB] = [offline(), offline()];
		const gatewayA = new (redisRateLimitStore(clientA, "x"))(60_000);
		const gatewayB = new (redisRateLimitStore(clientB, "x"))(60_000);
		expect([await gatewayA.inc("c"), await gatewayA.inc("c"), await gatewayA.inc("c")]).toEqual([1, 2, 3]);
		expect([await gatewayB.inc("c"), await gatewayA.inc("d")]).toEqual([1, 1]);
		clientA.disconnect();
		clientB.disconnect();
	});
});
