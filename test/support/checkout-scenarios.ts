// Checkout scenarios that the cluster suites of every transporter run alike,
// and the invariants of docs/architecture.md ("Invariants") that must hold
// once the cluster settles after them.
import type { ServiceBroker } from "moleculer";
import { checkConsistency, type ConsistencyReport } from "../../lib/ops/consistency";
import type { ClusterNode } from "./cluster";
import { cards, Shopper, someProduct } from "./shop";
import { eventually } from "./wait";
import type { Notification, Order, Page, Product } from "../../lib/contract/contract";

/** A running shop: its gateway, an admin signed in, and a node of the test's own in the cluster. */
export interface ShopUnderTest {
	url: string;
	admin: Shopper;
	client: ServiceBroker;
}

interface StockLevel {
	productId: string;
	sold: number;
	available: number;
	reserved: number;
	received: number;
}

/** Waits until the consistency check passes, and says which invariant does not when it never does. */
export async function settled(client: ServiceBroker): Promise<ConsistencyReport> {
	const last = await eventually(
		() => checkConsistency((action, params) => client.call(action, params)),
		report => report.ok,
		45_000,
	);
	expect(last.violations).toEqual([]);
	return last;
}

/** The `index`-th electronics product, with `units` in stock. */
export async function stockedProduct(shop: ShopUnderTest, units: number, index: number): Promise<Product> {
	const product = await someProduct(shop.url, "electronics", index);
	expect((await shop.admin.call("PATCH", `/inventory/${product.id}`, { available: units })).status).toBe(200);
	return product;
}

/**
 * One checkout crosses every node type: it is CONFIRMED, order.confirmed makes
 * shipping create a shipment whose shipment.created reaches orders, and the
 * shopper gets exactly the welcome and the confirmation.
 */
export async function checkoutReachesEveryConsumer(shop: ShopUnderTest, productIndex: number): Promise<void> {
	const product = await stockedProduct(shop, 10, productIndex);
	const shopper = await Shopper.register(shop.url);
	const placed = await shopper.buy(product.id, 1);
	expect([placed.status, placed.body.status]).toEqual([201, "CONFIRMED"]);

	const shipped = await eventually(
		() => shopper.call<Order>("GET", `/orders/${placed.body.id}`),
		res => res.body.shipment != null,
		30_000,
	);
	expect(shipped.body.shipment!.status).toBe("CREATED");
	const templates = async () => (await shopper.call<Page<Notification>>("GET", "/notifications")).body.rows.map(n => n.template).sort();
	expect(await eventually(templates, list => list.length === 2, 30_000)).toEqual(["order-confirmed", "welcome"]);
	await settled(shop.client);
}

/**
 * Breaks: an orders node, SIGKILLed while sagas run on it under load.
 * Holds: the other orders node (and the restarted one) finish every PENDING
 * order; no order stays PENDING, stock is conserved, money matches orders.
 */
export async function sagasFinishAfterOrdersNodeKilled(shop: ShopUnderTest, productIndex: number, victim: ClusterNode, restart: () => void): Promise<void> {
	const product = await stockedProduct(shop, 200, productIndex);
	const shoppers = await Promise.all(Array.from({ length: 24 }, () => Shopper.register(shop.url)));
	for (const shopper of shoppers) await shopper.addToCart(product.id, 1);
	const inFlight = shoppers.map(shopper => shopper.checkout(cards.ok).catch(err => ({ status: 0, body: String(err) })));
	await new Promise(resolve => setTimeout(resolve, 150));
	await victim.stop("SIGKILL");
	const answers = await Promise.all(inFlight);
	// Requests on the dead node fail with a clear 5xx; none may claim success wrongly.
	for (const answer of answers) expect([201, 202, 500, 502, 503, 504]).toContain(answer.status);

	restart();
	const final = await settled(shop.client);
	expect(final.counts.pending).toBe(0);
	const level = (await shop.client.call<StockLevel[], object>("inventory.all", { pageSize: 500 })).find(l => l.productId === product.id)!;
	expect(level.available + level.reserved + level.sold).toBe(level.received);
	expect(level.reserved).toBe(0);
}
