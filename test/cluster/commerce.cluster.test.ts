// The commerce flow on a real cluster: every service group in its own process
// over NATS (facts on JetStream), with Redis and the MongoDB server. The fault
// tests say what they break; after each, once the cluster settles, the
// invariants of docs/architecture.md, "Invariants", must hold.
import { randomUUID } from "node:crypto";
import type { ServiceBroker } from "moleculer";
import { DEVELOPMENT_WEBHOOK_SECRET } from "../../lib/platform/env";
import { signature } from "../../services/shipping/shipment";
import { uniqueName } from "../support/app";
import { sagasFinishAfterOrdersNodeKilled, settled, stockedProduct, type ShopUnderTest } from "../support/checkout-scenarios";
import { clientNode, Cluster, freePort, waitFor, type ClusterNode } from "../support/cluster";
import { request } from "../support/http";
import { clusterEnv, describeWithServers } from "../support/servers";
import { cards, Shopper, someProduct } from "../support/shop";
import { eventually } from "../support/wait";
import type { Availability, ErrorBody, Notification, Order, Page } from "../../lib/contract/contract";

describeWithServers(["nats", "redis", "mongo"], "commerce cluster", () => {
	const namespace = uniqueName("shop");
	const env = clusterEnv(namespace, {
		RATE_LIMIT: "100000",
		AUTH_RATE_LIMIT: "100000",
		ORDER_LEASE_MS: "4000",
	});
	const cluster = new Cluster(env);
	let url = "";
	let client: ServiceBroker;
	let admin: Shopper;
	const nodes: Record<string, ClusterNode> = {};

	const start = (name: string, services: string, extra = {}) => (nodes[name] = cluster.start(name, services, extra));
	const shop = (): ShopUnderTest => ({ url, admin, client });

	beforeAll(async () => {
		const port = await freePort();
		url = `http://127.0.0.1:${port}`;
		start("gateway", "api", { PORT: String(port) });
		start("catalog", "products,inventory");
		start("identity", "auth,users");
		start("orders1", "orders,carts");
		start("orders2", "orders,carts");
		start("payments", "payments");
		start("shipping", "shipping");
		start("notifications", "notifications");
		client = await clientNode(env);
		await client.waitForServices(["products", "inventory", "auth", "users", "orders", "carts", "payments", "shipping", "notifications"], 60_000);
		await waitFor(
			async () => (await request(`${url}/health/ready`)).status === 200,
			30_000,
			() => cluster.logs(),
		);
		await waitFor(
			async () => (await request<Availability>(`${url}/api/inventory/${(await someProduct(url, "electronics", 0)).id}`)).body.available > 0,
			30_000,
			() => cluster.logs(),
		);
		admin = await Shopper.admin(url);
	});
	afterAll(async () => {
		await client?.stop();
		await cluster.stopAll();
	});

	it("takes an order from checkout to DELIVERED across nodes, with facts on JetStream", async () => {
		const product = await stockedProduct(shop(), 20, 0);
		const shopper = await Shopper.register(url);
		const placed = await shopper.buy(product.id, 2);
		expect(placed.status).toBe(201);
		expect(placed.body).toMatchObject({ status: "CONFIRMED", payment: { status: "CAPTURED" } });
		const id = placed.body.id;

		const withShipment = await eventually(
			() => shopper.call<Order>("GET", `/orders/${id}`),
			res => res.body.shipment != null,
		);
		expect(withShipment.body.shipment!.status).toBe("CREATED");
		expect((await admin.call("POST", `/shipments/${id}/advance`)).status).toBe(200);
		await eventually(
			() => shopper.call<Order>("GET", `/orders/${id}`),
			res => res.body.status === "SHIPPED",
		);
		const event = JSON.stringify({ eventId: `evt-${randomUUID()}`, trackingNumber: withShipment.body.shipment!.trackingNumber, status: "DELIVERED" });
		expect(
			(
				await request(`${url}/api/shipping/webhook`, {
					method: "POST",
					rawBody: event,
					headers: { "x-signature": signature(event, DEVELOPMENT_WEBHOOK_SECRET) },
				})
			).status,
		).toBe(204);
		const delivered = await eventually(
			() => shopper.call<Order>("GET", `/orders/${id}`),
			res => res.body.status === "DELIVERED",
		);
		expect(delivered.body.statusHistory.map(h => h.status)).toEqual(["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED"]);

		const templates = async () => (await shopper.call<Page<Notification>>("GET", "/notifications")).body.rows.map(n => n.template).sort();
		expect(await eventually(templates, list => list.length === 4)).toEqual(["order-confirmed", "order-delivered", "order-shipped", "welcome"]);
		await settled(client);
	});

	it("never oversells when checkouts race through two orders nodes", async () => {
		const product = await stockedProduct(shop(), 4, 1);
		const shoppers = await Promise.all(Array.from({ length: 10 }, () => Shopper.register(url)));
		for (const shopper of shoppers) await shopper.addToCart(product.id, 1);
		const results = await Promise.all(shoppers.map(shopper => shopper.checkout()));
		expect(results.filter(r => r.body.status === "CONFIRMED")).toHaveLength(4);
		expect(results.filter(r => r.body.status === "CANCELLED" && r.body.cancelReason === "OUT_OF_STOCK")).toHaveLength(6);
		await settled(client);
	});

	// Breaks: the notifications node, while orders are confirmed.
	// Holds: once a notifications node is back, every order has exactly one confirmation.
	it("sends every confirmation exactly once when the notifications node was down while orders were placed", async () => {
		await nodes.notifications.stop("SIGKILL");
		const product = await stockedProduct(shop(), 20, 2);
		const shoppers = await Promise.all(Array.from({ length: 3 }, () => Shopper.register(url)));
		const orders = await Promise.all(shoppers.map(shopper => shopper.buy(product.id, 1)));
		expect(orders.map(o => o.body.status)).toEqual(["CONFIRMED", "CONFIRMED", "CONFIRMED"]);

		start("notifications", "notifications");
		for (const [i, shopper] of shoppers.entries()) {
			const inbox = await eventually(
				() => shopper.call<Page<Notification>>("GET", "/notifications"),
				res => res.status === 200 && res.body.rows.some(n => n.template === "order-confirmed"),
				30_000,
			);
			expect(inbox.body.rows.filter(n => n.template === "order-confirmed").map(n => n.orderId)).toEqual([orders[i].body.id]);
		}
		await settled(client);
	});

	// Breaks: the payments node.
	// Holds: checkout answers 503 at once and nothing is reserved; it works again when payments returns.
	it("answers checkouts with 503 while payments is down, reserving nothing, and recovers", async () => {
		const product = await stockedProduct(shop(), 5, 3);
		await nodes.payments.stop("SIGTERM");
		const shopper = await Shopper.register(url);
		const refused = await shopper.buy(product.id, 1);
		expect([refused.status, (refused.body as unknown as ErrorBody).type]).toEqual([503, "SERVICE_UNAVAILABLE"]);
		expect((await request<Availability>(`${url}/api/inventory/${product.id}`)).body).toMatchObject({ available: 5, reserved: 0 });

		start("payments", "payments");
		await client.waitForServices(["payments"], 30_000);
		const retried = await eventually(
			() => shopper.checkout(cards.ok),
			res => res.status === 201,
			20_000,
		);
		expect(retried.body.status).toBe("CONFIRMED");
		await settled(client);
	});

	it("finishes every saga when an orders node is SIGKILLed mid-checkout under load", () =>
		sagasFinishAfterOrdersNodeKilled(shop(), 4, nodes.orders1, () => start("orders1", "orders,carts")));
});
