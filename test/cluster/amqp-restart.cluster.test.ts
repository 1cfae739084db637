// RabbitMQ crashing and coming back under checkout load, for a cluster over
// the AMQP transporter (requests on RabbitMQ, facts on its durable queues):
// while it is down, clients get clear 5xx answers in the error shape (or their
// request waits and succeeds), none hangs beyond the checkout's timeout; once
// it is back every node reconnects by itself, checkouts succeed again, and
// every order settles with its facts delivered exactly once.
import { mkdtempSync, rmSync } from "node:fs";
import { randomUUID } from "node:crypto";
import os from "node:os";
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import { uniqueName } from "../support/app";
import { checkoutReachesEveryConsumer, settled, stockedProduct, type ShopUnderTest } from "../support/checkout-scenarios";
import { clientNode, Cluster, SHOP_SERVICES } from "../support/cluster";
import { failures, startLoad, type Answer } from "../support/load";
import { describeWithTools } from "../support/nats-server";
import { RabbitMqServer, rabbitmqServerBinary } from "../support/rabbitmq-server";
import { clusterEnv, describeWithServers } from "../support/servers";
import { address, card, cards, Shopper } from "../support/shop";

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
/** orders.checkout's own timeout (services/orders/orders.service.ts): no answer may come later than this and a margin. */
const CHECKOUT_TIMEOUT_MS = 25_000;
const SHOPPERS = 8;

/** The error body of lib/contract (what every client is promised): code, type and message. */
function errorShaped(body: string): boolean {
	try {
		const error = JSON.parse(body) as Record<string, unknown>;
		return typeof error.code === "number" && typeof error.type === "string" && typeof error.message === "string";
	} catch {
		return false;
	}
}

describeWithServers(["redis", "mongo"], "RabbitMQ restarting under load", () => {
	describeWithTools("a cluster over a RabbitMQ of its own", { "rabbitmq-server": rabbitmqServerBinary }, () => {
		let dir = "";
		let rabbitmq: RabbitMqServer;
		let cluster: Cluster;
		let shop: ShopUnderTest;
		let client: ServiceBroker;

		beforeAll(async () => {
			dir = mkdtempSync(path.join(os.tmpdir(), "amqp-restart-"));
			rabbitmq = await RabbitMqServer.start(dir);
			const env = clusterEnv(uniqueName("amqprestart"), {
				TRANSPORTER: rabbitmq.url,
				RATE_LIMIT: "1000000",
				AUTH_RATE_LIMIT: "100000",
				// Orders left PENDING by the outage are taken up again by the sweep soon after.
				ORDER_LEASE_MS: "4000",
			});
			cluster = new Cluster(env);
			const url = await cluster.startShop();
			client = await clientNode(env);
			await client.waitForServices(SHOP_SERVICES, 60_000);
			shop = { url, admin: await Shopper.admin(url), client };
		});
		afterAll(async () => {
			await client?.stop();
			await cluster?.stopAll();
			await rabbitmq?.stop();
			if (dir) rmSync(dir, { recursive: true, force: true });
		});

		it("answers checkouts clearly while RabbitMQ is down, resumes once it is back, and settles every order", async () => {
			const product = await stockedProduct(shop, 1000, 0);
			const idle = await Promise.all(Array.from({ length: SHOPPERS }, () => Shopper.register(shop.url)));
			// One item into a cart, then checkout; the answer is the checkout's, or the cart's if that failed.
			const checkout = async () => {
				const shopper = idle.shift()!;
				try {
					const json = { ...shopper.headers, "content-type": "application/json" };
					const added = await fetch(`${shop.url}/api/cart/items`, {
						method: "POST",
						headers: json,
						body: JSON.stringify({ productId: product.id, quantity: 1 }),
					});
					if (added.status !== 200) return added;
					await added.text();
					return await fetch(`${shop.url}/api/orders`, {
						method: "POST",
						headers: { ...json, "idempotency-key": randomUUID() },
						body: JSON.stringify({ shippingAddress: address, payment: { card: card(cards.ok) } }),
					});
				} finally {
					idle.push(shopper);
				}
			};
			// Shoppers checking out all along, and more arriving while RabbitMQ is down;
			// each tries again 100 ms after a failure.
			const steady = startLoad(checkout, SHOPPERS - 4, 100);
			await sleep(3000);
			const killedAt = Date.now();
			await rabbitmq.kill();
			const newcomers = startLoad(checkout, 2, 100);
			await sleep(10_000);
			const restartAt = Date.now();
			await rabbitmq.restart();
			const upAt = Date.now();
			// Checkouts succeed again without any node restarted.
			const succeeded = (a: Answer) => a.status === 201 || a.status === 202;
			const resumed = () => [...steady.answers, ...newcomers.answers].find(a => a.at >= upAt && succeeded(a));
			for (let waited = 0; !resumed() && waited < 60_000; waited += 200) await sleep(200);
			const firstAfter = resumed();
			await sleep(15_000);
			const answers = [...(await steady.stop()), ...(await newcomers.stop())];

			const during = answers.filter(a => a.at < upAt && a.at + a.ms > killedAt);
			const after = answers.filter(a => a.at >= upAt);
			const statuses = (list: Answer[]) => list.reduce<Record<number, number>>((count, a) => ({ ...count, [a.status]: (count[a.status] ?? 0) + 1 }), {});
			console.log(
				[
					`RabbitMQ SIGKILLed, restarted after ${restartAt - killedAt} ms, booted in ${upAt - restartAt} ms`,
					`first checkout started after the boot succeeded ${firstAfter ? firstAfter.at + firstAfter.ms - upAt : "never"} ms after it`,
					`in flight during the outage: ${JSON.stringify(statuses(during))}, slowest ${Math.max(...during.map(a => a.ms))} ms, slowest 503 ${Math.max(...during.filter(a => a.status === 503).map(a => a.ms))} ms`,
					`after: ${JSON.stringify(statuses(after))}`,
				].join("\n"),
			);

			expect(firstAfter).toBeDefined();
			// During the outage: success (the request waited), or 503 or 504 in the error shape; never a hang.
			expect(during.some(a => a.status === 503)).toBe(true);
			const clear = (a: Answer) => succeeded(a) || ((a.status === 503 || a.status === 504) && errorShaped(a.body));
			expect(failures(during, clear)).toEqual([]);
			expect(Math.max(...answers.map(a => a.ms))).toBeLessThan(CHECKOUT_TIMEOUT_MS + 5000);
			// Once the nodes have reconnected, every checkout succeeds.
			const settledAt = firstAfter!.at + firstAfter!.ms;
			expect(
				failures(
					answers.filter(a => a.at >= settledAt + 5000),
					succeeded,
				),
			).toEqual([]);

			// Every order settles: none PENDING, paid ones with one shipment and one
			// confirmation each, stock conserved, every outbox empty.
			const final = await settled(client);
			expect(final.counts.pending).toBe(0);
			expect(final.counts.confirmed).toBeGreaterThanOrEqual(answers.filter(a => a.status === 201).length);
			expect(cluster.started.filter(node => node.child.exitCode != null || node.child.signalCode != null).map(node => node.name)).toEqual([]);
		}, 180_000);

		it("delivers a new checkout's facts to every consumer after the restart", () => checkoutReachesEveryConsumer(shop, 1));
	});
});
