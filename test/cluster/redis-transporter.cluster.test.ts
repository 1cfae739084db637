// The transporter is chosen by env: the same cluster over Redis instead of
// NATS, requests over Redis pub/sub and facts on Redis Streams. One checkout
// crosses every node type and its facts reach shipping and notifications.
import type { ServiceBroker } from "moleculer";
import { uniqueName } from "../support/app";
import { checkoutReachesEveryConsumer } from "../support/checkout-scenarios";
import { clientNode, Cluster, SHOP_SERVICES } from "../support/cluster";
import { clusterEnv, describeWithServers, serverUrls } from "../support/servers";
import { Shopper } from "../support/shop";

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
		await checkoutReachesEveryConsumer({ url, admin: await Shopper.admin(url), client }, 0);
	});
});
