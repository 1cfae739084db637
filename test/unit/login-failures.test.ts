// Failed logins per (account, address): the rule, and both stores behaving
// alike (the Redis one shared by two auth nodes, and on one node by itself
// when Redis cannot be reached).
import Redis from "ioredis";
import { FREE_FAILURES, lockAfter, MAX_LOCK_MS, MemoryLoginFailures, RedisLoginFailures, type LoginFailureStore } from "../../services/auth/login-failures";
import { describeWithServers, serverUrls } from "../support/servers";
import { uniqueName } from "../support/app";

describe("the lock after failed logins", () => {
	it("costs nothing for the first few failures, then doubles from one second up to a cap", () => {
		expect(Array.from({ length: FREE_FAILURES }, (_, i) => lockAfter(i + 1))).toEqual(Array(FREE_FAILURES).fill(0));
		expect([6, 7, 8, 9].map(lockAfter)).toEqual([1000, 2000, 4000, 8000]);
		expect(lockAfter(40)).toBe(MAX_LOCK_MS);
		expect(lockAfter(10_000)).toBe(MAX_LOCK_MS);
	});
});

/** The behaviour every store shares: `nodes` are the views of two auth nodes (one object in memory). */
function behavesLikeALoginFailureStore(nodes: () => [LoginFailureStore, LoginFailureStore]): void {
	it("locks only the pair that failed, sees it from every node, and forgets it on success", async () => {
		const [a, b] = nodes();
		const pair = JSON.stringify([uniqueName("owner@"), "203.0.113.9"]);
		const owner = JSON.stringify([uniqueName("owner@"), "198.51.100.1"]);
		for (let i = 0; i < FREE_FAILURES; i++) await (i % 2 ? a : b).failed(pair);
		expect(await a.lockedFor(pair)).toBe(0);
		await b.failed(pair);
		expect(await a.lockedFor(pair)).toBeGreaterThan(0);
		expect(await a.lockedFor(pair)).toBeLessThanOrEqual(1000);
		expect(await b.lockedFor(owner)).toBe(0);
		await a.succeeded(pair);
		expect(await b.lockedFor(pair)).toBe(0);
		await b.failed(pair); // counting starts again from one
		expect(await a.lockedFor(pair)).toBe(0);
	});
}

describe("in-memory login failures", () => {
	const store = new MemoryLoginFailures();
	behavesLikeALoginFailureStore(() => [store, store]);
});

describeWithServers(["redis"], "Redis login failures", () => {
	let clients: Redis[] = [];
	let prefix: string;
	beforeAll(async () => {
		clients = [new Redis(serverUrls.redis), new Redis(serverUrls.redis)];
		await Promise.all(clients.map(client => client.ping())); // connected: a store counts on the node until its client is
		prefix = uniqueName("lf");
	});
	afterAll(async () => {
		await Promise.all(clients.map(client => client.quit()));
	});
	behavesLikeALoginFailureStore(() => [new RedisLoginFailures(clients[0], prefix), new RedisLoginFailures(clients[1], prefix)]);
});

describe("Redis login failures while Redis cannot be reached", () => {
	const offline = new Redis("redis://127.0.0.1:1", { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
	afterAll(() => offline.disconnect());
	const node = new RedisLoginFailures(offline, "x");
	behavesLikeALoginFailureStore(() => [node, node]);
});
