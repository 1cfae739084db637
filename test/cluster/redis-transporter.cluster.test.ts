// The transporter is chosen by env: the same cluster over Redis instead of
// NATS, requests over Redis pub/sub and facts on Redis Streams. One checkout
// crosses every node type and its facts reach shipping and notifications.
import type { ServiceBroker } from "moleculer";
import { checkConsistency } from "../../lib/ops/consistency";
import { uniqueName } from "../support/app";
import { clientNode, Cluster, SHOP_SERVICES } from "../support/cluster";
import { clusterEnv, describeWithServers, serverUrls } from "../support/servers";
import { Shopper, someProduct } from "../support/shop";
import { eventually } from "../support/wait";
import type { Notification, Order, Page } from "../../lib/contract/contract";

describeWithServers(["redis", "mongo"], "cluster over the Redis transporter", () => {
	const namespace = uniqueName("redis");
	const env = clusterEnv(namespace, { TRANSPORTER: serverUrls.redis, RATE_LIMIT: "100000", AUTH_RATE_LIMIT: "100000" });
	const cluster = new Cluster(env);
	let url = "";
	let client: ServiceBroker;

	beforeAll(async () => {
		url = await cluster.startShop();
		client = await clientNode(env);
		await client.waitForServices(SHOP_SERVICES, 60_000);
	});
	afterAll(async () => {
		await client?.stop();
		await cluster.stopAll();
	});

	it("checks out across every node, with the facts delivered on Redis Streams", async () => {
		const admin = await Shopper.admin(url);
		const product = await someProduct(url, "kitchen", 0);
		expect((await admin.call("PATCH", `/inventory/${product.id}`, { available: 10 })).status).toBe(200);
		const shopper = await Shopper.register(url);
		const placed = await shopper.buy(product.id, 1);
		expect([placed.status, placed.body.status]).toEqual([201, "CONFIRMED"]);

		// order.confirmed -> shipping creates a shipment -> shipment.created reaches orders.
		const shipped = await eventually(
			() => shopper.call<Order>("GET", `/orders/${placed.body.id}`),
			res => res.body.shipment != null,
			30_000,
		);
		expect(shipped.body.shipment!.status).toBe("CREATED");
		const templates = async () => (await shopper.call<Page<Notification>>("GET", "/notifications")).body.rows.map(n => n.template).sort();
		expect(await eventually(templates, list => list.length === 2, 30_000)).toEqual(["order-confirmed", "welcome"]);

		const report = await eventually(
			() => checkConsistency((action, params) => client.call(action, params)),
			r => r.ok,
			30_000,
		);
		expect(report.violations).toEqual([]);
	});
});
