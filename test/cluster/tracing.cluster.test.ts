// Tracing across the cluster, as an operator sees it in Jaeger: one checkout
// is one trace, its spans made on the gateway, orders, inventory and payments
// nodes, each joined to its parent. The nodes export with the settings of
// docker-compose.yml (Moleculer's Zipkin exporter into Jaeger's Zipkin
// receiver) and the test reads the trace back through Jaeger's query API.
import { randomUUID } from "node:crypto";
import type { ServiceBroker } from "moleculer";
import { uniqueName } from "../support/app";
import { clientNode, Cluster, SHOP_SERVICES } from "../support/cluster";
import { findTraces, TRACING_EXPORTER, serviceOf, services, tag, tracesSince, type JaegerSpan, type JaegerTrace } from "../support/jaeger";
import { clusterEnv, describeWithServers, jaegerUrls } from "../support/servers";
import { cards, Shopper, someProduct } from "../support/shop";
import { eventually } from "../support/wait";

const actionOf = (span: JaegerSpan) => tag(span, "action.name") as string | undefined;
const actions = (spans: JaegerSpan[]) => new Set(spans.map(actionOf));
/** Spans whose parent is not in the trace. */
const orphans = (trace: JaegerTrace) => {
	const ids = new Set(trace.spans.map(span => span.spanID));
	return trace.spans.filter(span => span.references.some(ref => !ids.has(ref.spanID)));
};

describeWithServers(["nats", "redis", "mongo", "jaeger"], "tracing cluster", () => {
	const env = clusterEnv(uniqueName("trace"), { RATE_LIMIT: "100000", AUTH_RATE_LIMIT: "100000" });
	const cluster = new Cluster({ ...env, TRACING_EXPORTER, TRACING_URL: jaegerUrls.zipkin });
	let client: ServiceBroker;
	// Every node of this cluster is named <node>-<this process id> (test/support/cluster.ts).
	const ours = (span: JaegerSpan) => String(tag(span, "nodeID")).endsWith(`-${process.pid}`);
	let url = "";
	let startedAt = 0;

	beforeAll(async () => {
		url = await cluster.startShop();
		// The gateway is ready once the catalog is; the checkout needs every node.
		client = await clientNode(env);
		await client.waitForServices(SHOP_SERVICES, 60_000);
		startedAt = Date.now();
	});
	afterAll(async () => {
		await client?.stop();
		await cluster.stopAll();
	});

	it("shows one checkout in Jaeger as one trace across the gateway, orders, inventory and payments nodes, parents intact, no request bodies", async () => {
		const admin = await Shopper.admin(url);
		const product = await someProduct(url, "outdoor", 0);
		expect((await admin.call("PATCH", `/inventory/${product.id}`, { available: 10 })).status).toBe(200);
		const shopper = await Shopper.register(url);
		await shopper.addToCart(product.id, 1);
		const placed = await shopper.checkout();
		expect(placed.body.status).toBe("CONFIRMED");
		const requestID = placed.headers.get("x-request-id")!;

		// Each node's exporter sends its spans every 5 s, so the trace fills in node by node.
		const expected = ["api.rest", "orders.checkout", "inventory.reserve", "payments.charge", "inventory.commit"];
		const found = await eventually(
			() => findTraces("orders", { requestID }),
			list => list.length === 1 && expected.every(name => actions(list[0].spans).has(name)) && orphans(list[0]).length === 0,
			20_000,
		);
		expect(found).toHaveLength(1);
		const trace: JaegerTrace = found[0];
		expect([...actions(trace.spans)]).toEqual(expect.arrayContaining(expected));

		// One trace: every service's spans of this request are in it and in no other.
		for (const service of ["api", "orders", "inventory", "payments"]) {
			expect((await findTraces(service, { requestID })).map(t => t.traceID)).toEqual([trace.traceID]);
		}
		const serviceNames = new Set(trace.spans.map(span => serviceOf(trace, span)));
		expect([...serviceNames]).toEqual(expect.arrayContaining(["api", "orders", "inventory", "payments"]));
		// Here inventory runs on the catalog node (the groups of test/support/cluster.ts).
		const nodes = [...new Set(trace.spans.map(span => String(tag(span, "nodeID"))))];
		expect(["gateway", "orders", "catalog", "payments"].filter(node => !nodes.includes(`${node}-${process.pid}`))).toEqual([]);

		// Parent links: every span's parent is in the trace, and the gateway's request is its one root.
		expect(orphans(trace).map(actionOf)).toEqual([]);
		const roots = trace.spans.filter(span => span.references.length === 0);
		expect(roots.map(actionOf)).toEqual(["api.rest"]);

		// The gateway's span names the route; no span carries a request body.
		const paramTags = trace.spans.flatMap(span => span.tags.filter(t => t.key.startsWith("params.")).map(t => [actionOf(span), t.key, t.value]));
		expect(paramTags.sort()).toEqual([
			["api.rest", "params.req.method", "POST"],
			["api.rest", "params.req.url", "/api/orders"],
		]);
		// Spans leave the cluster for a tracing backend: never with card numbers or passwords,
		// in any span this cluster sent (registration and payment among them).
		const sent = async () =>
			(await Promise.all((await services()).map(service => tracesSince(service, startedAt)))).flat().flatMap(t => t.spans.filter(ours));
		const spans = await eventually(sent, list => actions(list).has("auth.register"), 10_000);
		expect([...actions(spans)]).toEqual(expect.arrayContaining(["auth.register", "payments.charge"]));
		expect(JSON.stringify(spans)).not.toContain(cards.ok);
		expect(JSON.stringify(spans)).not.toContain("correct horse");
	});

	it("keeps every request's spans when a caller's X-Request-Id is no hex trace id", async () => {
		// Zipkin trace ids are hex; such a request id, sent as given, would make
		// Jaeger refuse the gateway's whole batch, the other requests' spans with it.
		const browse = (requestID: string) => fetch(`${url}/api/products?q=${encodeURIComponent(requestID)}`, { headers: { "x-request-id": requestID } });
		const hostile = `order-${Date.now()}.Z:x`;
		const plain = randomUUID();
		expect((await browse(hostile)).headers.get("x-request-id")).toBe(hostile);
		expect((await browse(plain)).status).toBe(200);
		const traced = async () => ({
			hostile: (await findTraces("api", { requestID: hostile })).length,
			plain: (await findTraces("api", { requestID: plain })).length,
		});
		expect(await eventually(traced, found => found.hostile === 1 && found.plain === 1, 20_000)).toEqual({ hostile: 1, plain: 1 });
	});
});
