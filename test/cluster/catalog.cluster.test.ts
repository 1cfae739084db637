// The catalog on a real cluster: a gateway node and two products nodes as
// separate processes over NATS, with the Redis cacher and the MongoDB server.
import type { ServiceBroker } from "moleculer";
import { uniqueName } from "../support/app";
import { clientNode, Cluster, freePort, waitFor, type ClusterNode } from "../support/cluster";
import { request } from "../support/http";
import { clusterEnv, describeWithServers } from "../support/servers";
import type { Page, Product } from "../../lib/contract/contract";

/** The sum of a Prometheus series over the lines whose labels include every one of `labels`. */
function metricSum(metrics: string, series: string, labels: string[]): number {
	return metrics
		.split("\n")
		.filter(line => line.startsWith(`${series}{`) && labels.every(label => line.includes(label)))
		.reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
}

/** The demo catalog's size (services/products/demo-catalog.ts). */
const SEEDED_PRODUCTS = 60;

const metricCount = (metrics: string, action: string) => metricSum(metrics, "moleculer_request_total", [`action="${action}"`]);

describeWithServers(["nats", "redis", "mongo"], "catalog cluster", () => {
	const namespace = uniqueName("cl");
	const env = clusterEnv(namespace, { RATE_LIMIT: "40", TRUSTED_PROXIES: "127.0.0.1" });
	// With the test as a trusted proxy, X-Forwarded-For picks whose rate-limit
	// budget a request spends: start-up polling and the rate-limit test each
	// get their own, however slow the machine, and the other tests stay well
	// under theirs.
	const asClient = (address: string) => ({ headers: { "X-Forwarded-For": address } });
	const cluster = new Cluster(env);
	let gateways: { node: ClusterNode; url: string; metricsUrl: string }[] = [];
	let workers: { node: ClusterNode; metricsUrl: string }[] = [];
	let client: ServiceBroker;

	beforeAll(async () => {
		const ports = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
		gateways = [0, 1].map(i => ({
			node: cluster.start(`gateway${i + 1}`, "api", { PORT: String(ports[i]), METRICS_PORT: String(ports[i + 4]) }),
			url: `http://127.0.0.1:${ports[i]}`,
			metricsUrl: `http://127.0.0.1:${ports[i + 4]}/metrics`,
		}));
		workers = [2, 3].map(i => ({
			node: cluster.start(`products${i - 1}`, "products", { METRICS_PORT: String(ports[i]) }),
			metricsUrl: `http://127.0.0.1:${ports[i]}/metrics`,
		}));
		// Both products nodes start at once: one seeds the demo catalog, the other
		// finds it begun and serves at once, so wait for the seeding to end.
		for (const { url } of gateways) {
			await waitFor(
				async () => (await request<Page<Product>>(`${url}/api/products?pageSize=1`, asClient("192.0.2.1"))).body?.total === SEEDED_PRODUCTS,
				60_000,
				() => cluster.logs(),
			);
		}
		// A third process joins like a REPL would, to make changes HTTP does not expose yet.
		client = await clientNode(env);
		// The seeding node announces its service once it is done; a gateway that
		// missed that announcement asks again at the next heartbeat (5 s). Both
		// gateways know both products nodes before the tests start.
		const productsNodesSeenBy = async (gateway: ClusterNode) => {
			const actions = (await client.call(
				"$node.actions",
				{ onlyAvailable: true, withEndpoints: true },
				{ nodeID: `${gateway.name}-${process.pid}` },
			)) as {
				name: string;
				endpoints: unknown[];
			}[];
			return actions.find(action => action.name === "products.list")?.endpoints.length ?? 0;
		};
		await waitFor(
			async () => (await Promise.all(gateways.map(({ node }) => productsNodesSeenBy(node)))).every(count => count === 2),
			30_000,
			() => cluster.logs(),
		);
	});
	afterAll(async () => {
		await client?.stop();
		await cluster.stopAll();
	});

	it("serves the seeded, paged catalog through either gateway", async () => {
		for (const { url } of gateways) {
			const res = await request<Page<Product>>(`${url}/api/products?pageSize=10&sort=price`);
			expect(res.status).toBe(200);
			expect(res.body).toMatchObject({ total: SEEDED_PRODUCTS, pageSize: 10, totalPages: 6 });
		}
	});

	it("spreads calls over both products nodes", async () => {
		for (let i = 0; i < 20; i++) {
			expect((await request(`${gateways[i % 2].url}/api/products?q=spread${i}`)).status).toBe(200);
		}
		for (const { metricsUrl } of workers) {
			const metrics = await (await fetch(metricsUrl)).text();
			expect(metricCount(metrics, "products.list")).toBeGreaterThan(0);
		}
	});

	it("drops cached catalog reads on every node when a product changes", async () => {
		const { body } = await request<Page<Product>>(`${gateways[0].url}/api/products?category=toys&sort=price&pageSize=1`);
		const cheapest = body.rows[0];
		await request(`${gateways[1].url}/api/products/${cheapest.id}`); // cached in Redis
		await client.call("products.update", { id: cheapest.id, name: "Renamed Toy" });
		for (const { url } of gateways) {
			expect((await request<Product>(`${url}/api/products/${cheapest.id}`)).body.name).toBe("Renamed Toy");
			const page = await request<Page<Product>>(`${url}/api/products?category=toys&sort=price&pageSize=1`);
			expect(page.body.rows[0].name).toBe("Renamed Toy");
		}
	});

	it("keeps both gateways' pages and ETags in step: a 304 calls no catalog node, a change reaches both", async () => {
		const url = (gateway: { url: string }) => `${gateway.url}/api/products?category=books&sort=price&pageSize=2`;
		const { headers } = asClient("192.0.2.2");
		const firsts = await Promise.all(gateways.map(gateway => request<Page<Product>>(url(gateway), { headers })));
		const etag = firsts[0].headers.get("etag")!;
		expect(firsts[1].headers.get("etag")).toBe(etag); // the same bytes, whichever gateway sent them
		const listed = async () =>
			(await Promise.all(workers.map(async ({ metricsUrl }) => metricCount(await (await fetch(metricsUrl)).text(), "products.list")))).reduce(
				(a, b) => a + b,
				0,
			);
		const before = await listed();
		for (let i = 0; i < 10; i++) {
			for (const gateway of gateways) expect((await fetch(url(gateway), { headers: { ...headers, "If-None-Match": etag } })).status).toBe(304);
		}
		expect(await listed()).toBe(before);

		const cheapest = firsts[0].body.rows[0];
		await client.call("products.update", { id: cheapest.id, price: cheapest.price + 1 });
		const fresh = await Promise.all(gateways.map(gateway => fetch(url(gateway), { headers: { ...headers, "If-None-Match": etag } })));
		expect(fresh.map(res => res.status)).toEqual([200, 200]);
		const newTags = fresh.map(res => res.headers.get("etag"));
		expect(newTags[0]).not.toBe(etag);
		expect(newTags[1]).toBe(newTags[0]);
		for (const res of fresh) expect(((await res.json()) as Page<Product>).rows.find(row => row.id === cheapest.id)?.price).toBe(cheapest.price + 1);
	});

	it("carries the client's X-Request-Id across the NATS hop and back", async () => {
		const res = await request(`${gateways[0].url}/api/products?pageSize=1&q=not-kept-at-the-gateway`, { headers: { "X-Request-Id": "trace-me-123" } });
		expect(res.headers.get("x-request-id")).toBe("trace-me-123");
	});

	it("answers 503 once every products node has left, while the gateway itself stays ready", async () => {
		await Promise.all(workers.map(({ node }) => node.stop("SIGTERM")));
		const res = await request(`${gateways[0].url}/api/products?q=after-shutdown`);
		expect(res.status).toBe(503);
		expect(res.body).toMatchObject({ code: 503, type: "SERVICE_UNAVAILABLE" });
		expect((await request(`${gateways[1].url}/health/ready`)).status).toBe(200);
	});

	it("enforces one rate limit budget per client across both gateway nodes", async () => {
		const client = asClient("192.0.2.99");
		const statuses: number[] = [];
		for (let i = 0; i < 50; i++) statuses.push((await request(`${gateways[i % 2].url}/api/products?pageSize=1`, client)).status);
		expect(statuses.filter(status => status !== 429)).toHaveLength(40);
		// Both gateways refuse once the shared budget is gone, and only for this client.
		for (const { url } of gateways) expect((await request(`${url}/api/products`, client)).status).toBe(429);
		expect((await request(`${gateways[0].url}/health/ready`)).status).toBe(200);
		// Refused at the front door, and still in the series operators and the dashboard read.
		const metrics = await Promise.all(gateways.map(async ({ metricsUrl }) => (await fetch(metricsUrl)).text()));
		const refusals = metrics
			.map(text => metricSum(text, "moleculer_request_error_total", ['action="api.rest"', 'errorCode="429"']))
			.reduce((a, b) => a + b, 0);
		expect(refusals).toBeGreaterThanOrEqual(12);
		for (const text of metrics) {
			expect(metricSum(text, "moleculer_request_total", ['action="api.rest"', 'type="local"'])).toBeGreaterThan(20);
			expect(metricSum(text, "moleculer_request_time_bucket", ['action="api.rest"', 'le="+Inf"'])).toBeGreaterThan(20);
		}
	});
});
