// Tracing across the cluster: one checkout is one trace, its spans made on
// the gateway, orders, inventory and payments nodes and joined by trace id.
// The nodes export with Moleculer's Event exporter; a collector node here
// receives the spans as the Zipkin/Jaeger exporters would send them out.
import type { Context, ServiceBroker } from "moleculer";
import { uniqueName } from "../support/app";
import { clientNode, Cluster, SHOP_SERVICES } from "../support/cluster";
import { clusterEnv, describeWithServers } from "../support/servers";
import { Shopper, someProduct } from "../support/shop";
import { eventually } from "../support/wait";

interface Span {
	name: string;
	traceID: string;
	tags: { nodeID?: string; action?: { name?: string }; params?: unknown; requestID?: string };
}

describeWithServers(["nats", "redis", "mongo"], "tracing cluster", () => {
	const namespace = uniqueName("trace");
	const env = clusterEnv(namespace, {
		RATE_LIMIT: "100000",
		AUTH_RATE_LIMIT: "100000",
	});
	const cluster = new Cluster({ ...env, TRACING_EXPORTER: "Event" });
	const spans: Span[] = [];
	let collector: ServiceBroker;
	let url = "";

	beforeAll(async () => {
		url = await cluster.startShop();
		const collectSpans = { name: "span-collector", events: { "$tracing.spans": (ctx: Context<Span[]>) => void spans.push(...ctx.params) } };
		collector = await clientNode(env, "collector", [collectSpans]);
		await collector.waitForServices(SHOP_SERVICES, 60_000);
	});
	afterAll(async () => {
		await collector?.stop();
		await cluster.stopAll();
	});

	it("follows one checkout across nodes as one trace, without params in any span", async () => {
		const admin = await Shopper.admin(url);
		const product = await someProduct(url, "outdoor", 0);
		expect((await admin.call("PATCH", `/inventory/${product.id}`, { available: 10 })).status).toBe(200);
		// Spans are telemetry: an exporter drops a batch it cannot send, and
		// once in a while on a loaded CI machine one node's batch never reached
		// the collector (cause not found). The propagation this test is about
		// shows in any complete trace, so a second checkout gets a second chance.
		const expected = ["api.rest", "orders.checkout", "inventory.reserve", "payments.charge", "inventory.commit"];
		const actions = (list: Span[]) => new Set(list.map(span => span.tags.action?.name));
		let trace: Span[] = [];
		for (let attempt = 1; attempt <= 2; attempt++) {
			const shopper = await Shopper.register(url);
			await shopper.addToCart(product.id, 1);
			const placed = await shopper.checkout();
			expect(placed.body.status).toBe("CONFIRMED");
			const requestID = placed.headers.get("x-request-id")!;
			// The exporters send spans every 5 s.
			const checkout = await eventually(
				async () => spans.find(span => span.tags.action?.name === "orders.checkout" && span.tags.requestID === requestID),
				span => span !== undefined,
				15_000,
			);
			expect(checkout).toBeDefined();
			const ofCheckout = () => spans.filter(span => span.traceID === checkout!.traceID);
			trace = await eventually(
				async () => ofCheckout(),
				list => expected.every(name => actions(list).has(name)),
				15_000,
			);
			if (expected.every(name => actions(trace).has(name))) break;
		}
		expect([...actions(trace)]).toEqual(expect.arrayContaining(expected));
		const nodes = new Set(trace.map(span => span.tags.nodeID));
		expect(["gateway", "orders", "catalog", "payments"].filter(node => ![...nodes].some(id => id?.startsWith(`${node}-`)))).toEqual([]);
		// Spans leave the cluster for a tracing backend: never with card numbers or passwords.
		expect(JSON.stringify(spans)).not.toMatch(/4242424242424242|correct horse/);
		// The gateway's span names the route; no span carries a request body.
		const withParams = trace.filter(span => span.tags.params !== undefined);
		expect(withParams.map(span => span.tags.params)).toEqual([{ req: { method: "POST", url: "/api/orders" } }]);
	});
});
