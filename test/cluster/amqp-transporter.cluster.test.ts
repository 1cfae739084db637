// The same cluster over RabbitMQ: requests and Moleculer's own events on the
// AMQP transporter, facts on durable RabbitMQ queues (one per consumer group).
// One checkout crosses every node type and its facts reach their consumers;
// an orders node SIGKILLed under load leaves facts it had taken unacknowledged,
// which RabbitMQ hands to the other orders node, and every saga still ends.
import type { ServiceBroker } from "moleculer";
import { uniqueName } from "../support/app";
import { checkoutReachesEveryConsumer, sagasFinishAfterOrdersNodeKilled, type ShopUnderTest } from "../support/checkout-scenarios";
import { clientNode, Cluster, SHOP_SERVICES, waitFor, type ClusterNode } from "../support/cluster";
import { clusterEnv, describeWithServers, serverUrls } from "../support/servers";
import { Shopper } from "../support/shop";

describeWithServers(["rabbitmq", "redis", "mongo"], "cluster over the AMQP transporter (RabbitMQ)", () => {
	const namespace = uniqueName("amqp");
	const env = clusterEnv(namespace, { TRANSPORTER: serverUrls.rabbitmq, RATE_LIMIT: "100000", AUTH_RATE_LIMIT: "100000", ORDER_LEASE_MS: "4000" });
	const cluster = new Cluster(env);
	let client: ServiceBroker;
	let shop: ShopUnderTest;
	let orders2: ClusterNode;
	const startOrders2 = () => (orders2 = cluster.start("orders2", "orders,carts"));

	beforeAll(async () => {
		const url = await cluster.startShop();
		startOrders2();
		client = await clientNode(env);
		await client.waitForServices(SHOP_SERVICES, 60_000);
		// Both orders nodes take checkouts before the load starts.
		const ordersNodes = () => client.registry.getServiceList({ onlyAvailable: true }).filter(service => service.name === "orders").length;
		await waitFor(
			async () => ordersNodes() === 2,
			30_000,
			() => cluster.logs(),
		);
		shop = { url, admin: await Shopper.admin(url), client };
	});
	afterAll(async () => {
		await client?.stop();
		await cluster.stopAll();
	});

	it("checks out across every node, with the facts delivered on RabbitMQ queues", () => checkoutReachesEveryConsumer(shop, 0));

	it("finishes every saga when an orders node is SIGKILLed mid-checkout under load", () => sagasFinishAfterOrdersNodeKilled(shop, 1, orders2, startOrders2));
});
