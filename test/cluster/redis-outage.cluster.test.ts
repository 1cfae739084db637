// Redis is a cache and a store of counters, never the source of truth: when it
// dies under load (SIGKILL), catalog reads keep answering from the catalog
// service, each gateway keeps the rate limit by itself (a client gets at most
// the limit per gateway), the auth node still locks a guessed (account,
// address) pair, and readiness says "degraded" without taking nodes out of
// rotation. Once Redis is back, counting is shared and the cache fills again,
// without restarting a node.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Redis from "ioredis";
import { uniqueName } from "../support/app";
import { Cluster, freePort, waitFor, type ClusterNode } from "../support/cluster";
import { request } from "../support/http";
import { failures, startLoad, type Load } from "../support/load";
import { describeWithTools } from "../support/nats-server";
import { RedisServer, redisServerBinary } from "../support/redis-server";
import { clusterEnv, describeWithServers } from "../support/servers";
import { Shopper, someProduct } from "../support/shop";
import { eventually } from "../support/wait";
import type { HealthReport, Product } from "../../lib/contract/contract";

const LIMIT = 20;
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
/** The test is the trusted proxy: X-Forwarded-For says whose rate-limit budget a request spends. */
const from = (address: string) => ({ "X-Forwarded-For": address });
let addresses = 0;
/** A client address no request has used yet: a fresh budget. */
const freshAddress = () => `198.18.${++addresses >> 8}.${addresses & 255}`;

describeWithServers(["nats", "mongo"], "Redis lost under load", () => {
	describeWithTools("a cluster with a redis-server of its own", { "redis-server": redisServerBinary }, () => {
		const namespace = uniqueName("redisloss");
		let dir = "";
		let redis: RedisServer;
		let cluster: Cluster;
		let nodes: ClusterNode[] = [];
		let gateways: string[] = [];
		let catalogHealth = "";
		let shopper: Shopper;
		let product: Product;
		let load: Load | undefined;

		beforeAll(async () => {
			dir = mkdtempSync(path.join(os.tmpdir(), "redis-outage-"));
			redis = await RedisServer.start(dir);
			// An hour's window: no check straddles two windows.
			cluster = new Cluster(
				clusterEnv(namespace, {
					CACHER: redis.url,
					RATE_LIMIT: String(LIMIT),
					RATE_LIMIT_WINDOW_MS: "3600000",
					TRUSTED_PROXIES: "127.0.0.1",
					AUTH_RATE_LIMIT: "1000",
				}),
			);
			const [port1, port2, healthPort] = await Promise.all([freePort(), freePort(), freePort()]);
			nodes = [
				cluster.start("gateway1", "api", { PORT: String(port1) }),
				cluster.start("gateway2", "api", { PORT: String(port2) }),
				cluster.start("catalog", "products,inventory", { HEALTH_PORT: String(healthPort) }),
				cluster.start("identity", "auth,users"),
			];
			gateways = [port1, port2].map(port => `http://127.0.0.1:${port}`);
			catalogHealth = `http://127.0.0.1:${healthPort}/health/ready`;
			for (const url of [...gateways.map(gateway => `${gateway}/health/ready`), catalogHealth]) {
				await waitFor(
					async () => (await fetch(url)).status === 200,
					60_000,
					() => cluster.logs(),
				);
			}
			await waitFor(
				async () => (await fetch(`${gateways[1]}/api/products?pageSize=1`, { headers: from(freshAddress()) })).status === 200,
				60_000,
				() => cluster.logs(),
			);
			// The identity node may join after the gateways are ready.
			const registered = await eventually(
				() => Shopper.register(gateways[0], from(freshAddress())).catch(() => undefined),
				result => result !== undefined,
				60_000,
			);
			shopper = registered!;
			product = await someProduct(gateways[0]);
		});
		afterAll(async () => {
			await load?.stop();
			await cluster?.stopAll();
			await redis?.stop();
			if (dir) rmSync(dir, { recursive: true, force: true });
		});

		/** Statuses of `count` reads of one product by one client, through the gateways `route` picks. */
		const reads = async (address: string, count: number, route: (i: number) => string) => {
			const statuses: number[] = [];
			for (let i = 0; i < count; i++) statuses.push((await fetch(`${route(i)}/api/products/${product.id}`, { headers: from(address) })).status);
			return statuses;
		};
		const cacheKeys = async () => {
			const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
			try {
				await client.connect();
				return await client.keys(`${namespace}-cache*`);
			} finally {
				client.disconnect();
			}
		};
		const readiness = async (url: string) => {
			const res = await fetch(url);
			return { status: res.status, body: (await res.json()) as HealthReport };
		};
		/** The limit counted across both gateways: the limit in all, whichever gateway a request goes through. */
		const expectSharedLimit = async () => {
			const address = freshAddress();
			expect(await reads(address, LIMIT, i => gateways[i % 2])).toEqual(Array(LIMIT).fill(200));
			expect(await reads(address, 2, i => gateways[i])).toEqual([429, 429]);
		};

		it("counts the rate limit across both gateways and caches catalog reads in Redis", async () => {
			await expectSharedLimit();
			await shopper.call("GET", "/products?category=toys&pageSize=3", undefined, from(freshAddress()));
			expect((await cacheKeys()).length).toBeGreaterThan(0);
		});

		it("keeps answering catalog reads, quickly, when Redis is SIGKILLed under load", async () => {
			// Anonymous reads (kept pages at the gateway) and signed-in ones (the
			// Redis cacher on the catalog and identity nodes), through both gateways,
			// each from an address of its own so the load never meets the limit.
			const categories = ["books", "toys", "kitchen"];
			load = startLoad(
				i =>
					fetch(`${gateways[i % 2]}/api/products?category=${categories[i % 3]}&pageSize=5`, {
						headers: { ...from(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), ...(i % 4 < 2 ? shopper.headers : {}) },
					}),
				4,
			);
			await sleep(1500);
			const killedAt = Date.now();
			await redis.stop("SIGKILL");
			await sleep(4000);
			const during = load.answers.filter(answer => answer.at >= killedAt);
			expect(during.length).toBeGreaterThan(50);
			expect(failures(during)).toEqual([]);
			// No request waits on the dead Redis (lib/platform/redis-options.ts, FAIL_FAST):
			// with ioredis' defaults a command would wait about 10 s for it.
			expect(Math.max(...during.map(answer => answer.ms))).toBeLessThan(2000);
		});

		it("refuses over the limit on each gateway by itself while Redis is down", async () => {
			const address = freshAddress();
			// One gateway: the limit, then 429.
			expect(await reads(address, LIMIT + 1, () => gateways[0])).toEqual([...Array(LIMIT).fill(200), 429]);
			// The other counts on its own: the same client gets its limit there too, and no more.
			expect(await reads(address, LIMIT + 1, () => gateways[1])).toEqual([...Array(LIMIT).fill(200), 429]);
		});

		it("still locks an (account, address) pair after repeated wrong passwords while Redis is down", async () => {
			const guesser = from(freshAddress());
			const login = (password: string, headers: Record<string, string>) =>
				request(`${gateways[0]}/api/auth/login`, { method: "POST", body: { email: shopper.auth.user.email, password }, headers });
			const statuses: number[] = [];
			for (let i = 0; i < 6; i++) statuses.push((await login("not the password", guesser)).status);
			expect(statuses).toEqual(Array(6).fill(401));
			const locked = await login("correct horse battery", guesser);
			expect([locked.status, locked.body.type]).toEqual([429, "TOO_MANY_ATTEMPTS"]);
			// The owner, from their own address, is not locked out.
			expect((await login("correct horse battery", from(freshAddress()))).status).toBe(200);
		});

		it("reports the cache as degraded while every node stays ready", async () => {
			for (const url of [...gateways.map(gateway => `${gateway}/health/ready`), catalogHealth]) {
				const { status, body } = await readiness(url);
				expect(status).toBe(200);
				expect(body).toMatchObject({ status: "degraded", checks: { cache: { ok: false }, transporter: { ok: true } } });
			}
		});

		it("shares counts and caches again once Redis is back, without restarting a node", async () => {
			await redis.restart();
			// X-Rate-Limit-Remaining of one client's reads through gateway 1, 2, 1: shared counting gives 19, 18, 17.
			const remaining = async () => {
				const address = freshAddress();
				const values: number[] = [];
				for (const gateway of [gateways[0], gateways[1], gateways[0]]) {
					const res = await fetch(`${gateway}/api/products/${product.id}`, { headers: from(address) });
					values.push(Number(res.headers.get("x-rate-limit-remaining")));
				}
				return values;
			};
			const shared = [LIMIT - 1, LIMIT - 2, LIMIT - 3];
			expect(await eventually(remaining, values => JSON.stringify(values) === JSON.stringify(shared), 20_000)).toEqual(shared);
			await expectSharedLimit();
			// The load's signed-in reads fill the new, empty Redis.
			expect((await eventually(cacheKeys, keys => keys.length > 0, 10_000)).length).toBeGreaterThan(0);
			for (const url of [...gateways.map(gateway => `${gateway}/health/ready`), catalogHealth]) {
				expect(
					(
						await eventually(
							() => readiness(url),
							ready => ready.body.status === "ok",
							10_000,
						)
					).body.status,
				).toBe("ok");
			}

			const answers = await load!.stop();
			load = undefined;
			expect(failures(answers)).toEqual([]);
			expect(nodes.filter(node => node.child.exitCode != null || node.child.signalCode != null).map(node => node.name)).toEqual([]);
		});
	});
});
