// The checkout saga without a broker: every way an order can end, on fakes of
// the services it calls (test/support/fake-shop.ts). What is asserted is what
// a customer and the other services see: the order's status and reason, its
// payment, its stock, and the facts it announced.
import { Errors } from "moleculer";
import { outOfStock } from "../../services/inventory/stock";
import { Channels, type Card, type OrderStatus } from "../../lib/contract/contract";
import type { OrderDoc } from "../../services/orders/order";
import { cancelByCustomer, CHARGE_ATTEMPTS, resumeOrder, runSaga } from "../../services/orders/saga";
import { moveStatus, STATUS_MOVES, type StatusMove } from "../../services/orders/status-moves";
import { FakeShop } from "../support/fake-shop";

const card: Card = { number: "4242424242424242", expMonth: 12, expYear: 2099, cvc: "123" };
const shippingAddress = { name: "Ada Lovelace", line1: "1 Analytical Way", city: "London", postalCode: "N1 9GU", country: "GB" };
const providerDown = () => new Errors.MoleculerRetryableError("The card provider is temporarily unavailable", 503, "PAYMENT_PROVIDER_UNAVAILABLE");

function pendingOrder(changes: Partial<OrderDoc> = {}): OrderDoc {
	const now = new Date().toISOString();
	return {
		_id: "order-1",
		userId: "user-1",
		email: "ada@example.com",
		idemKey: "user-1:key-00000001",
		fingerprint: "print",
		items: [
			{ productId: "mug", name: "Mug", unitPrice: 1200, quantity: 2 },
			{ productId: "tea", name: "Tea", unitPrice: 600, quantity: 1 },
		],
		subtotal: 3000,
		shippingCost: 499,
		total: 3499,
		currency: "USD",
		status: "PENDING",
		statusHistory: [{ status: "PENDING", at: now }],
		shippingAddress,
		payment: { status: "PENDING", brand: "visa", last4: "4242" },
		lease: { owner: "node-1", until: now },
		createdAt: now,
		updatedAt: now,
		...changes,
	};
}

function statuses(order: OrderDoc): OrderStatus[] {
	return order.statusHistory.map(entry => entry.status);
}

function cancelledFact(order: OrderDoc, reason: string) {
	return {
		channel: Channels.ORDER_CANCELLED,
		payload: { orderId: order._id, userId: order.userId, email: order.email, total: order.total, currency: order.currency, reason },
	};
}

/** A confirmed order whose customer has asked to cancel it (the cancel action's claim). */
async function confirmedWithCancelRequested(shop: FakeShop): Promise<OrderDoc> {
	const order = await runSaga(shop, shop.add(pendingOrder()), card);
	shop.orders.get(order._id)!.cancelRequested = true;
	return shop.stored(order._id);
}

describe("checkout saga", () => {
	it("reserves, charges and commits, then confirms the order and announces it with the address and lines", async () => {
		const shop = new FakeShop();
		const order = await runSaga(shop, shop.add(pendingOrder()), card);

		expect(order).toMatchObject({ status: "CONFIRMED", payment: { status: "CAPTURED", brand: "visa", last4: "4242" } });
		expect(statuses(order)).toEqual(["PENDING", "CONFIRMED"]);
		expect(shop.calls).toEqual(["inventory.reserve", "payments.charge", "inventory.commit"]);
		expect(shop.stock.get("order-1")).toBe("COMMITTED");
		expect(shop.facts).toEqual([
			{
				channel: Channels.ORDER_CONFIRMED,
				payload: {
					orderId: "order-1",
					userId: "user-1",
					email: "ada@example.com",
					total: 3499,
					currency: "USD",
					shippingAddress,
					items: [
						{ productId: "mug", quantity: 2 },
						{ productId: "tea", quantity: 1 },
					],
				},
			},
		]);
	});

	it("cancels as OUT_OF_STOCK when the stock cannot be reserved: no charge, the payment voided, the reservation released", async () => {
		const shop = new FakeShop();
		shop.beforeReserve = async () => {
			throw outOfStock("mug");
		};
		const order = await runSaga(shop, shop.add(pendingOrder()), card);

		expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "OUT_OF_STOCK", payment: { status: "FAILED" } });
		expect(shop.count("payments.charge")).toBe(0);
		expect(shop.calls).toEqual(["inventory.reserve", "payments.refund", "inventory.release"]);
		expect(shop.voided.has("order-1")).toBe(true);
		expect(shop.facts).toEqual([cancelledFact(order, "OUT_OF_STOCK")]);
	});

	it("cancels as PAYMENT_DECLINED when the card is declined, and puts the reserved stock back", async () => {
		const shop = new FakeShop();
		shop.chargeAnswers = ["DECLINED"];
		const order = await runSaga(shop, shop.add(pendingOrder()), card);

		expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "PAYMENT_DECLINED", payment: { status: "DECLINED" } });
		expect(shop.stock.get("order-1")).toBe("RELEASED");
		expect(shop.facts).toEqual([cancelledFact(order, "PAYMENT_DECLINED")]);
	});

	it("retries a provider that is briefly down, backing off, and confirms once a charge goes through", async () => {
		const shop = new FakeShop();
		shop.chargeAnswers = [providerDown(), "CAPTURED"];
		const order = await runSaga(shop, shop.add(pendingOrder()), card);

		expect(order.status).toBe("CONFIRMED");
		expect(shop.count("payments.charge")).toBe(2);
		expect(shop.pauses).toEqual([200]);
	});

	it(`gives the order up as PAYMENT_ERROR after ${CHARGE_ATTEMPTS} transient failures: the charge voided, the stock released`, async () => {
		const shop = new FakeShop();
		shop.chargeAnswers = [providerDown(), new Errors.MoleculerRetryableError("Queue is full", 429, "QUEUE_FULL"), providerDown(), "CAPTURED"];
		const order = await runSaga(shop, shop.add(pendingOrder()), card);

		expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "PAYMENT_ERROR", payment: { status: "FAILED" } });
		expect(shop.count("payments.charge")).toBe(CHARGE_ATTEMPTS);
		expect(shop.pauses).toEqual([200, 400]);
		expect(shop.voided.has("order-1")).toBe(true);
		expect(shop.stock.get("order-1")).toBe("RELEASED");
		expect(shop.facts).toEqual([cancelledFact(order, "PAYMENT_ERROR")]);
	});

	it("cancels as OUT_OF_STOCK when the reservation expired before the commit, refunding the captured payment", async () => {
		const shop = new FakeShop();
		shop.beforeCommit = async () => {
			shop.stock.delete("order-1"); // the expiry sweep released it
		};
		const order = await runSaga(shop, shop.add(pendingOrder()), card);

		expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "OUT_OF_STOCK", payment: { status: "REFUNDED" } });
		expect(shop.count("inventory.release")).toBe(1);
		expect(shop.facts).toEqual([cancelledFact(order, "OUT_OF_STOCK")]);
	});

	const outages: [string, Error, (shop: FakeShop, err: Error) => void][] = [
		[
			"inventory.reserve",
			new Errors.ServiceNotAvailableError({ action: "inventory.reserve" }),
			(shop, err) => (shop.beforeReserve = () => Promise.reject(err)),
		],
		// Not retryable: the request's time budget is spent.
		["payments.charge", new Errors.RequestSkippedError({ action: "payments.charge", nodeID: "payments-1" }), (shop, err) => (shop.chargeAnswers = [err])],
		[
			"inventory.commit",
			new Errors.RequestTimeoutError({ action: "inventory.commit", nodeID: "inventory-1" }),
			(shop, err) => (shop.beforeCommit = () => Promise.reject(err)),
		],
	];

	it.each(outages)("leaves the order PENDING for a sweep, nothing compensated, when %s gives no answer", async (_action, outage, breakStep) => {
		const shop = new FakeShop();
		breakStep(shop, outage);
		await expect(runSaga(shop, shop.add(pendingOrder()), card)).rejects.toBe(outage);

		expect(shop.stored("order-1")).toMatchObject({ status: "PENDING" });
		expect(shop.stored("order-1").cancelling).toBeUndefined();
		expect(shop.count("payments.refund") + shop.count("inventory.release")).toBe(0);
		expect(shop.facts).toEqual([]);
	});

	it("returns an order that has left PENDING as it is", async () => {
		const shop = new FakeShop();
		const cancelled = shop.add(pendingOrder({ status: "CANCELLED", cancelReason: "OUT_OF_STOCK" }));
		expect(await runSaga(shop, cancelled, card)).toEqual(cancelled);
		expect(shop.calls).toEqual([]);
	});
});

describe("checkout saga on a node that takes over", () => {
	it("confirms without charging again when the payment was captured before the first node died", async () => {
		const shop = new FakeShop();
		shop.beforeCommit = () => Promise.reject(new Errors.RequestTimeoutError({ action: "inventory.commit", nodeID: "inventory-1" }));
		await expect(runSaga(shop, shop.add(pendingOrder()), card)).rejects.toThrow();
		shop.beforeCommit = async () => {};

		const order = await resumeOrder(shop, shop.stored("order-1"));
		expect(order).toMatchObject({ status: "CONFIRMED", payment: { status: "CAPTURED" } });
		expect(shop.count("payments.charge")).toBe(1);
		expect(shop.facts.map(f => f.channel)).toEqual([Channels.ORDER_CONFIRMED]);
	});

	it("lets a declined payment stand: PAYMENT_DECLINED", async () => {
		const shop = new FakeShop();
		shop.add(pendingOrder());
		shop.stock.set("order-1", "RESERVED");
		shop.payments.set("order-1", { orderId: "order-1", amount: 3499, currency: "USD", status: "DECLINED", brand: "visa", last4: "4242" });

		const order = await resumeOrder(shop, shop.stored("order-1"));
		expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "PAYMENT_DECLINED", payment: { status: "DECLINED" } });
		expect(shop.count("payments.charge")).toBe(0);
	});

	it.each([
		["no charge was ever made", undefined],
		["a charge failed without an outcome", "FAILED" as const],
	])("voids the payment when %s (the card is gone) and cancels as PAYMENT_ERROR", async (_case, status) => {
		const shop = new FakeShop();
		shop.add(pendingOrder());
		shop.stock.set("order-1", "RESERVED");
		if (status) shop.payments.set("order-1", { orderId: "order-1", amount: 3499, currency: "USD", status, brand: "visa", last4: "4242" });

		const order = await resumeOrder(shop, shop.stored("order-1"));
		expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "PAYMENT_ERROR", payment: { status: "FAILED" } });
		expect(shop.count("payments.charge")).toBe(0);
		expect(shop.voided.has("order-1")).toBe(true);
		expect(shop.stock.get("order-1")).toBe("RELEASED");
	});

	it("finishes a cancellation cut short with its reason, without reserving or charging again", async () => {
		const shop = new FakeShop();
		shop.add(pendingOrder({ cancelling: "PAYMENT_DECLINED" }));
		shop.stock.set("order-1", "RESERVED");

		const order = await resumeOrder(shop, shop.stored("order-1"));
		expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "PAYMENT_DECLINED", payment: { status: "DECLINED" } });
		expect(shop.calls).toEqual(["payments.refund", "inventory.release"]);
		expect(shop.stock.get("order-1")).toBe("RELEASED");
	});

	it("returns the order as the faster node confirmed it, announced once", async () => {
		const shop = new FakeShop();
		let raced = false;
		shop.beforeCommit = async () => {
			if (raced) return;
			raced = true;
			await resumeOrder(shop, shop.stored("order-1")); // the lease lapsed: another node drives the order meanwhile
		};
		const order = await runSaga(shop, shop.add(pendingOrder()), card);

		expect(order.status).toBe("CONFIRMED");
		expect(statuses(order)).toEqual(["PENDING", "CONFIRMED"]);
		expect(shop.facts.map(f => f.channel)).toEqual([Channels.ORDER_CONFIRMED]);
	});

	it("returns the order as the faster node cancelled it, announced once", async () => {
		const shop = new FakeShop();
		shop.chargeAnswers = ["DECLINED"];
		let raced = false;
		const release = shop.release.bind(shop);
		shop.release = async orderId => {
			if (!raced) {
				raced = true;
				await resumeOrder(shop, shop.stored(orderId)); // finishes the cancellation the first node noted
			}
			return release(orderId);
		};
		const order = await runSaga(shop, shop.add(pendingOrder()), card);

		expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "PAYMENT_DECLINED" });
		expect(statuses(order)).toEqual(["PENDING", "CANCELLED"]);
		expect(shop.facts).toEqual([cancelledFact(order, "PAYMENT_DECLINED")]);
	});
});

describe("a customer's cancel", () => {
	it("cancels a confirmed order as CUSTOMER_REQUEST: shipment stopped, payment refunded, sold stock put back", async () => {
		const shop = new FakeShop();
		const confirmed = await confirmedWithCancelRequested(shop);
		shop.calls.length = 0;
		shop.facts.length = 0;

		const order = await cancelByCustomer(shop, confirmed);
		expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "CUSTOMER_REQUEST", payment: { status: "REFUNDED" } });
		expect(statuses(order)).toEqual(["PENDING", "CONFIRMED", "CANCELLED"]);
		expect(shop.calls).toEqual(["shipping.cancel", "payments.refund", "inventory.restock"]);
		expect(shop.stock.get("order-1")).toBe("RESTOCKED");
		expect(shop.facts).toEqual([cancelledFact(order, "CUSTOMER_REQUEST")]);
	});

	it("keeps the order as it was, no longer claimed, and passes shipping's refusal on when the parcel has left", async () => {
		const shop = new FakeShop();
		const confirmed = await confirmedWithCancelRequested(shop);
		shop.beforeCancelShipment = () => Promise.reject(new Errors.MoleculerClientError("A shipped order cannot be cancelled", 409, "ORDER_SHIPPED"));

		await expect(cancelByCustomer(shop, confirmed)).rejects.toMatchObject({ code: 409, type: "ORDER_SHIPPED" });
		expect(shop.stored("order-1")).toMatchObject({ status: "CONFIRMED", payment: { status: "CAPTURED" } });
		expect(shop.stored("order-1").cancelRequested).toBeUndefined();
		expect(shop.stock.get("order-1")).toBe("COMMITTED");
		expect(shop.count("payments.refund")).toBe(0);
	});

	it("is finished by the node that takes over when it was cut short", async () => {
		const shop = new FakeShop();
		const confirmed = await confirmedWithCancelRequested(shop);

		const order = await resumeOrder(shop, confirmed);
		expect(order).toMatchObject({ status: "CANCELLED", cancelReason: "CUSTOMER_REQUEST", payment: { status: "REFUNDED" } });
		expect(shop.stock.get("order-1")).toBe("RESTOCKED");
	});
});

describe("order status moves", () => {
	// Every move the table does not allow from each status.
	const refused: Record<OrderStatus, StatusMove[]> = {
		PENDING: ["ship", "deliver", "cancelByCustomer"],
		CONFIRMED: ["confirm", "abandonCheckout"],
		SHIPPED: ["confirm", "abandonCheckout", "cancelByCustomer", "ship"],
		DELIVERED: ["confirm", "abandonCheckout", "cancelByCustomer", "ship", "deliver"],
		CANCELLED: ["confirm", "abandonCheckout", "cancelByCustomer", "ship", "deliver"],
	};
	const refusals = Object.entries(refused).flatMap(([status, moves]) => moves.map(move => [status as OrderStatus, move] as const));

	it.each(refusals)("leaves a %s order where it is on %s", async (status, move) => {
		const shop = new FakeShop();
		const order = shop.add(pendingOrder({ status }));
		expect(await moveStatus(shop, order, { move })).toBeNull();
		expect(shop.stored("order-1")).toEqual(order);
	});

	it("lets a delivery overtake the shipped news", async () => {
		const shop = new FakeShop();
		const order = shop.add(pendingOrder({ status: "CONFIRMED" }));
		expect(await moveStatus(shop, order, { move: "deliver", set: { "shipment.status": "DELIVERED" } })).toMatchObject({ status: "DELIVERED" });
	});

	it.each(["ship", "deliver"] as const)("holds %s back while a customer's cancel has claimed the order", async move => {
		const shop = new FakeShop();
		const order = shop.add(pendingOrder({ status: "CONFIRMED", cancelRequested: true }));
		expect(await moveStatus(shop, order, { move })).toBeNull();
		await shop.withdrawCancelRequest("order-1");
		expect(await moveStatus(shop, order, { move })).toMatchObject({ status: STATUS_MOVES[move].to });
	});

	it("has no way out of CANCELLED or DELIVERED and none back to PENDING", () => {
		for (const rule of Object.values(STATUS_MOVES)) {
			expect(rule.from).not.toContain("CANCELLED");
			expect(rule.from).not.toContain("DELIVERED");
			expect(rule.to).not.toBe("PENDING");
		}
	});
});
