// A Python service in the cluster: two Python nodes (polyglot/python) beside
// TypeScript nodes on real NATS, discovered and balanced like any node, with
// the gateway in front and facts from JetStream.
import type { ServiceBroker } from "moleculer";
import { uniqueName } from "../support/app";
import { clientNode, Cluster, freePort, waitFor, type ClusterNode } from "../support/cluster";
import { request } from "../support/http";
import { clusterEnv, describeWithServers } from "../support/servers";
import { Shopper, someProduct } from "../support/shop";
import { eventually } from "../support/wait";
import type { ErrorBody, Recommendations } from "../../lib/contract/contract";

describeWithServers(["nats", "redis", "mongo"], "polyglot cluster", () => {
	const namespace = uniqueName("poly");
	const env = clusterEnv(namespace, { RATE_LIMIT: "100000", AUTH_RATE_LIMIT: "100000" });
	const cluster = new Cluster(env);
	let url = "";
	let client: ServiceBroker;
	const python: ClusterNode[] = [];
	const pythonIds = [`py1-${process.pid}`, `py2-${process.pid}`];
	const stats = (nodeID: string) => client.call<{ nodeID: string; served: number; orders: number }, object>("recommendations.stats", {}, { nodeID });

	beforeAll(async () => {
		const port = await freePort();
		url = `http://127.0.0.1:${port}`;
		cluster.start("gateway", "api", { PORT: String(port) });
		cluster.start("catalog", "products,inventory,auth,users");
		cluster.start("commerce", "carts,orders,payments,shipping,notifications");
		python.push(cluster.startPython("py1", "recommendations"), cluster.startPython("py2", "recommendations"));
		client = await clientNode(env);
		await client.waitForServices(["products", "orders", "recommendations"], 60_000);
		await waitFor(
			async () => {
				const endpoints = client.registry.getActionEndpoints("recommendations.forProduct");
				return (endpoints?.count() ?? 0) === 2;
			},
			30_000,
			() => cluster.logs(),
		);
		await waitFor(
			async () => (await request(`${url}/health/ready`)).status === 200,
			30_000,
			() => cluster.logs(),
		);
	});
	afterAll(async () => {
		await client?.stop();
		await cluster.stopAll();
	});

	it("lists the Python nodes in the registry like any other node", async () => {
		const nodes = await client.call<{ id: string; client: { type: string }; available: boolean }[], object>("$node.list", {});
		const py = nodes.filter(node => pythonIds.includes(node.id));
		expect(py).toHaveLength(2);
		expect(py.every(node => node.client.type === "python" && node.available)).toBe(true);
	});

	it("learns from confirmed orders on JetStream and answers through the gateway", async () => {
		const [a, b] = [await someProduct(url, "toys", 0), await someProduct(url, "toys", 1)];
		await waitFor(
			async () => (await request<{ available: number }>(`${url}/api/inventory/${a.id}`)).body.available > 0,
			30_000,
			() => cluster.logs(),
		);
		const shopper = await Shopper.register(url);
		await shopper.addToCart(a.id, 1);
		await shopper.addToCart(b.id, 1);
		expect((await shopper.checkout()).body.status).toBe("CONFIRMED");

		// Both Python nodes read the whole stream, so either answers the same.
		for (const nodeID of pythonIds)
			await eventually(
				() => stats(nodeID),
				s => s.orders >= 1,
				20_000,
			);
		const res = await request<Recommendations>(`${url}/api/products/${a.id}/recommendations`);
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ productId: a.id, items: [{ productId: b.id, score: 1 }] });
	});

	it("balances calls from the gateway over both Python nodes", async () => {
		const product = await someProduct(url, "books", 0);
		const before = await Promise.all(pythonIds.map(stats));
		for (let i = 0; i < 20; i++) expect((await request(`${url}/api/products/${product.id}/recommendations`)).status).toBe(200);
		const after = await Promise.all(pythonIds.map(stats));
		after.forEach((s, i) => expect(s.served - before[i].served).toBeGreaterThanOrEqual(5));
	});

	it("brings a Python validation error to the HTTP client with its status and message", async () => {
		const product = await someProduct(url, "books", 0);
		const res = await request<ErrorBody>(`${url}/api/products/${product.id}/recommendations?limit=0`);
		expect(res.status).toBe(422);
		expect(res.body).toMatchObject({ code: 422, type: "VALIDATION_ERROR", data: [{ field: "limit", type: "numberMin" }] });
		expect((await request(`${url}/api/products/no-such-product/recommendations`)).status).toBe(404);
	});

	it("fails over to the other Python node when one is killed under load, then degrades to an empty list with none", async () => {
		const product = await someProduct(url, "books", 0);
		const statuses: number[] = [];
		const load = (async () => {
			for (let i = 0; i < 30; i++) {
				statuses.push((await request(`${url}/api/products/${product.id}/recommendations`)).status);
				await new Promise(resolve => setTimeout(resolve, 50));
			}
		})();
		await new Promise(resolve => setTimeout(resolve, 300));
		await python[0].stop("SIGKILL");
		await load;
		expect(statuses.every(status => status === 200)).toBe(true);
		expect((await stats(pythonIds[1])).served).toBeGreaterThan(0);

		await python[1].stop("SIGTERM");
		// The SIGKILLed node leaves the registry once a heartbeat check (every 15 s)
		// finds it silent for over 15 s: up to 30 s after it died.
		await waitFor(
			async () => !client.registry.getActionEndpoints("recommendations.forProduct")?.hasAvailable(),
			35_000,
			() => cluster.logs(),
		);
		const degraded = await request<Recommendations>(`${url}/api/products/${product.id}/recommendations`);
		expect(degraded.status).toBe(200);
		expect(degraded.body).toEqual({ productId: product.id, items: [] });
	});
});
