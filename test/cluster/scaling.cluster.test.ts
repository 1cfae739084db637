// Horizontal scaling with real processes over NATS, Redis and the MongoDB
// server: replicas share the load, a new one takes its share at once, a
// graceful stop loses no request, a crash loses no read, and a gateway
// restart loses no data.
import { uniqueName } from "../support/app";
import { Cluster, freePort, waitFor, type ClusterNode } from "../support/cluster";
import { request } from "../support/http";
import { failures, startLoad } from "../support/load";
import { clusterEnv, describeWithServers } from "../support/servers";
import { Shopper } from "../support/shop";
import type { Product } from "../../lib/contract/contract";

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describeWithServers(["nats", "redis", "mongo"], "scaling cluster", () => {
	const namespace = uniqueName("scale");
	const env = clusterEnv(namespace, {
		RATE_LIMIT: "1000000",
		AUTH_RATE_LIMIT: "100000",
	});
	const cluster = new Cluster(env);
	const gateways: { node: ClusterNode; url: string; port: number }[] = [];
	const workers: Record<string, { node: ClusterNode; metricsUrl: string }> = {};

	const startGateway = (name: string, port: number) => cluster.start(name, "api", { PORT: String(port) });
	const startWorker = async (name: string) => {
		const port = await freePort();
		workers[name] = { node: cluster.start(name, "products", { METRICS_PORT: String(port) }), metricsUrl: `http://127.0.0.1:${port}/metrics` };
	};
	/** products.list calls this worker has served (its own Prometheus counter). */
	const served = async (name: string) => {
		const text = await (await fetch(workers[name].metricsUrl)).text();
		return text
			.split("\n")
			.filter(line => line.startsWith("moleculer_request_total{") && line.includes('action="products.list"'))
			.reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
	};
	// A distinct search every time: a cache miss, so a products node answers.
	const browse = (i: number) => fetch(`${gateways[0].url}/api/products?pageSize=2&q=load${i}-${Date.now()}`);

	beforeAll(async () => {
		for (const name of ["gateway1", "gateway2"]) {
			const port = await freePort();
			gateways.push({ node: startGateway(name, port), url: `http://127.0.0.1:${port}`, port });
		}
		cluster.start("identity", "auth,users");
		await startWorker("products1");
		await startWorker("products2");
		for (const { url } of gateways)
			await waitFor(
				async () => (await request(`${url}/api/products`)).status === 200,
				60_000,
				() => cluster.logs(),
			);
		// Both replicas known to the gateway before the tests measure sharing.
		await waitFor(
			async () => {
				for (let i = 0; i < 10; i++) await browse(i);
				return (await served("products1")) > 0 && (await served("products2")) > 0;
			},
			30_000,
			() => cluster.logs(),
		);
	});
	afterAll(() => cluster.stopAll());

	it("gives a third replica started under load its share within seconds", async () => {
		const load = startLoad(browse);
		try {
			await sleep(1000);
			await startWorker("products3");
			await waitFor(
				async () => (await served("products3")) >= 20,
				30_000,
				() => cluster.logs(),
			);
		} finally {
			const answers = await load.stop();
			expect(failures(answers)).toEqual([]);
		}
		const shares = await Promise.all(["products1", "products2", "products3"].map(served));
		for (const share of shares) expect(share).toBeGreaterThan(0);
	});

	it("loses no client request when a replica is stopped gracefully (SIGTERM) under load", async () => {
		const load = startLoad(browse);
		await sleep(1500);
		const stopping = workers.products1.node.stop("SIGTERM");
		await stopping;
		await sleep(1500);
		const answers = await load.stop();
		expect(answers.length).toBeGreaterThan(50);
		expect(failures(answers)).toEqual([]);
	});

	it("answers every read when a replica is SIGKILLed under load, and fails writes only clearly and in bounded time", async () => {
		const admin = await Shopper.admin(gateways[0].url);
		const reads = startLoad(browse);
		// A create is not idempotent: never retried, so one sent to the dead node fails.
		const writes = startLoad(
			i =>
				fetch(`${gateways[0].url}/api/products`, {
					method: "POST",
					headers: { ...admin.headers, "content-type": "application/json" },
					body: JSON.stringify({ sku: `KILL-${i}-${Date.now() % 1_000_000}`, name: `Kill ${i}`, price: 100, category: "toys" }),
				}),
			2,
		);
		await sleep(1500);
		await workers.products2.node.stop("SIGKILL");
		// Until the heartbeat timeout drops the dead node, calls routed to it time out and are retried elsewhere.
		await sleep(20_000);
		const [readAnswers, writeAnswers] = await Promise.all([reads.stop(), writes.stop()]);
		expect(failures(readAnswers)).toEqual([]);
		// Bounded: a read sent to the dead replica waits out its 6 s timeout, then is retried.
		expect(Math.max(...readAnswers.map(a => a.ms))).toBeLessThan(10_000);
		expect(writeAnswers.filter(a => a.status === 201).length).toBeGreaterThan(0);
		for (const failed of writeAnswers.filter(a => a.status !== 201)) {
			expect([failed.status, failed.body]).toEqual([expect.any(Number), expect.any(String)]);
			if (![503, 504].includes(failed.status)) throw new Error(`${failed.status}: ${failed.body}`);
			expect(JSON.parse(failed.body)).toMatchObject({ code: failed.status, type: expect.any(String) });
			expect(failed.ms).toBeLessThan(15_000);
		}
	}, 60_000);

	it("loses no data when a gateway restarts", async () => {
		const admin = await Shopper.admin(gateways[0].url);
		const created: Product[] = [];
		for (let i = 0; i < 5; i++) {
			const res = await admin.call<Product>("POST", "/products", {
				sku: `SCALE-${i}-${Date.now() % 1_000_000}`,
				name: `Scale ${i}`,
				price: 100 + i,
				category: "toys",
			});
			expect(res.status).toBe(201);
			created.push(res.body);
		}
		const shopper = await Shopper.register(gateways[0].url);
		await gateways[0].node.stop("SIGTERM");
		gateways[0].node = startGateway("gateway1-restarted", gateways[0].port);
		await waitFor(
			async () => (await request(`${gateways[0].url}/health/ready`)).status === 200,
			60_000,
			() => cluster.logs(),
		);
		for (const { url } of gateways) {
			for (const product of created) expect((await request<Product>(`${url}/api/products/${product.id}`)).body).toEqual(product);
			expect((await request(`${url}/api/users/me`, { headers: { authorization: `Bearer ${shopper.auth.accessToken}` } })).status).toBe(200);
		}
	});
});
