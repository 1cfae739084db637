// The checkout saga (docs/architecture.md, "Checkout saga"), without a
// broker: reserve -> charge -> commit -> CONFIRMED, or compensate (refund or
// void, release or restock) -> CANCELLED with a reason. Every step is
// idempotent by order id, so any node may drive a PENDING order to its end:
// the one that took the request, or one that took over its lapsed lease.
// What the steps reach (other services, the order's document) comes in as
// SagaPorts.
import {
	Channels,
	type CancelReason,
	type Card,
	type Cents,
	type CurrencyCode,
	type LineItem,
	type OrderCancelled,
	type OrderConfirmed,
	type OrderFact,
	type Payment,
} from "../../lib/contract/contract";
import type { OrderDoc } from "./order";
import { moveStatus, type StatusStore } from "./status-moves";

export const CHARGE_ATTEMPTS = 3;

export type OrderLine = Pick<LineItem, "productId" | "quantity">;

export interface ChargeRequest {
	orderId: string;
	amount: Cents;
	currency: CurrencyCode;
	card: Card;
}

export interface SagaPorts extends StatusStore {
	load(orderId: string): Promise<OrderDoc>;
	/** Notes the reason on a PENDING order before compensating, so a node that takes over finishes the same cancellation. */
	markCancelling(orderId: string, reason: CancelReason): Promise<void>;
	/** Shipping refused a customer's cancel: the CONFIRMED order is no longer claimed by it. */
	withdrawCancelRequest(orderId: string): Promise<void>;
	reserve(orderId: string, lines: OrderLine[]): Promise<unknown>;
	commit(orderId: string): Promise<unknown>;
	release(orderId: string): Promise<unknown>;
	restock(orderId: string): Promise<unknown>;
	charge(request: ChargeRequest): Promise<Payment>;
	/** Refunds a capture, or voids a charge not made yet so that it never can be. */
	refund(orderId: string): Promise<Payment>;
	paymentOf(orderId: string): Promise<Payment>;
	cancelShipment(orderId: string, userId: string): Promise<unknown>;
	/** Waits between charge attempts. */
	pause(ms: number): Promise<void>;
}

/** A transient failure of the provider (or of the way to it): worth another attempt. */
function isRetryable(err: unknown): boolean {
	return Boolean((err as { retryable?: boolean }).retryable) || (err as { code?: number }).code === 503;
}

function businessType(err: unknown): string | undefined {
	return (err as { type?: string }).type;
}

function linesOf(order: OrderDoc): OrderLine[] {
	return order.items.map(({ productId, quantity }) => ({ productId, quantity }));
}

function orderFact<T extends object>(order: OrderDoc, extra: T): Omit<OrderFact, "factId"> & T {
	return { orderId: order._id, userId: order.userId, email: order.email, total: order.total, currency: order.currency, ...extra };
}

/**
 * Drives a PENDING order to CONFIRMED or CANCELLED; `order` as last read or
 * written, `card` only in the request's own saga. A step failing otherwise
 * than with a business answer throws, and the order stays PENDING for a sweep.
 */
export async function runSaga(ports: SagaPorts, order: OrderDoc, card?: Card): Promise<OrderDoc> {
	if (order.status !== "PENDING") return order;
	if (order.cancelling) return compensate(ports, order, order.cancelling);

	try {
		await ports.reserve(order._id, linesOf(order));
	} catch (err) {
		if (businessType(err) === "OUT_OF_STOCK") return compensate(ports, order, "OUT_OF_STOCK");
		throw err;
	}

	const payment = await chargeOrder(ports, order, card);
	if (payment.status === "DECLINED") return compensate(ports, order, "PAYMENT_DECLINED");
	if (payment.status !== "CAPTURED") return compensate(ports, order, "PAYMENT_ERROR");

	try {
		await ports.commit(order._id);
	} catch (err) {
		// The reservation expired while the payment took its time.
		if (businessType(err) === "RESERVATION_GONE") return compensate(ports, order, "OUT_OF_STOCK");
		throw err;
	}
	return confirm(ports, order, payment);
}

/**
 * With the card (the request's own saga): charge, retrying a transient
 * failure a few times. Without it (a node taking over): the card is gone,
 * so whatever the provider already did stands; a charge that never
 * completed is voided so it cannot complete later.
 */
async function chargeOrder(ports: SagaPorts, order: OrderDoc, card?: Card): Promise<Payment> {
	if (!card) {
		const existing = await ports.paymentOf(order._id).catch(() => null);
		if (existing && (existing.status === "CAPTURED" || existing.status === "DECLINED")) return existing;
		return ports.refund(order._id);
	}
	for (let attempt = 1; ; attempt++) {
		try {
			return await ports.charge({ orderId: order._id, amount: order.total, currency: order.currency, card });
		} catch (err) {
			if (!isRetryable(err)) throw err;
			if (attempt >= CHARGE_ATTEMPTS) return ports.refund(order._id);
			await ports.pause(100 * 2 ** attempt);
		}
	}
}

async function confirm(ports: SagaPorts, order: OrderDoc, payment: Payment): Promise<OrderDoc> {
	const payload = orderFact(order, { shippingAddress: order.shippingAddress, items: linesOf(order) }) satisfies Omit<OrderConfirmed, "factId">;
	const confirmed = await moveStatus(ports, order, {
		move: "confirm",
		set: { payment: { status: payment.status, brand: payment.brand, last4: payment.last4 } },
		fact: { channel: Channels.ORDER_CONFIRMED, payload },
	});
	return confirmed ?? ports.load(order._id); // another node finished it first
}

/** Gives back what the order holds (refund or void; release, or restock once sold), then CANCELLED. Safe to repeat. */
async function compensate(ports: SagaPorts, order: OrderDoc, reason: CancelReason): Promise<OrderDoc> {
	const byCustomer = reason === "CUSTOMER_REQUEST";
	if (!byCustomer) await ports.markCancelling(order._id, reason);
	const payment = await ports.refund(order._id);
	await (byCustomer ? ports.restock(order._id) : ports.release(order._id));
	const paymentStatus = payment?.status === "CAPTURED" ? "REFUNDED" : (payment?.status ?? "FAILED");
	const payload = orderFact(order, { reason }) satisfies Omit<OrderCancelled, "factId">;
	const cancelled = await moveStatus(ports, order, {
		move: byCustomer ? "cancelByCustomer" : "abandonCheckout",
		set: { cancelReason: reason, "payment.status": reason === "PAYMENT_DECLINED" ? "DECLINED" : paymentStatus },
		fact: { channel: Channels.ORDER_CANCELLED, payload },
	});
	return cancelled ?? ports.load(order._id);
}

/** A cancel the customer asked for (cancelRequested is set): shipping decides first whether the parcel left. */
export async function cancelByCustomer(ports: SagaPorts, order: OrderDoc): Promise<OrderDoc> {
	try {
		await ports.cancelShipment(order._id, order.userId);
	} catch (err) {
		// Too late (or shipping is down): the order stays as it was.
		await ports.withdrawCancelRequest(order._id);
		throw err;
	}
	return compensate(ports, order, "CUSTOMER_REQUEST");
}

/**
 * An order another node left unfinished, once this node holds its lease: a
 * PENDING one (its node died mid-saga) is driven on, without the card; a
 * confirmed one whose customer's cancel was cut short is cancelled.
 */
export async function resumeOrder(ports: SagaPorts, order: OrderDoc): Promise<OrderDoc> {
	if (order.status === "PENDING") return runSaga(ports, await ports.load(order._id));
	return cancelByCustomer(ports, order);
}
