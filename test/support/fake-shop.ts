// In-memory stand-ins for everything the checkout saga reaches, keeping the
// contracts it relies on: payments idempotent by order (a refund before any
// charge voids it), stock held per order, and status moves that match only
// from the statuses and guards they are given, as the database's conditional
// update does. Tests script the answers and read back what happened.
import { Errors } from "moleculer";
import { orderNotFound, type OrderDoc } from "../../services/orders/order";
import type { Payment } from "../../lib/contract/contract";
import type { ChargeRequest, OrderLine, SagaPorts } from "../../services/orders/saga";
import type { OrderFactDraft, StatusChange } from "../../services/orders/status-moves";

type StockState = "RESERVED" | "COMMITTED" | "RELEASED" | "RESTOCKED";
/** A scripted answer of the card provider, one per attempt; an error is thrown. */
export type ChargeAnswer = "CAPTURED" | "DECLINED" | Error;

const copy = <T>(value: T): T => structuredClone(value);

function valueAt(doc: object, path: string): unknown {
	return path.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], doc);
}

function setAt(doc: object, path: string, value: unknown): void {
	const keys = path.split(".");
	const parent = keys.slice(0, -1).reduce((node, key) => ((node as Record<string, object>)[key] ??= {}), doc);
	(parent as Record<string, unknown>)[keys[keys.length - 1]] = value;
}

/** The subset of query operators the status table uses: equality and $ne. */
function meets(doc: object, guard: Record<string, unknown> = {}): boolean {
	return Object.entries(guard).every(([path, condition]) => {
		const value = valueAt(doc, path);
		if (condition && typeof condition === "object" && "$ne" in condition) return value !== condition.$ne;
		return value === condition;
	});
}

export class FakeShop implements SagaPorts {
	readonly orders = new Map<string, OrderDoc>();
	readonly payments = new Map<string, Payment>();
	/** Orders whose charge a refund voided: no later attempt may capture. */
	readonly voided = new Set<string>();
	readonly stock = new Map<string, StockState>();
	/** Every call to another service, in order, by action name. */
	readonly calls: string[] = [];
	readonly facts: OrderFactDraft[] = [];
	readonly pauses: number[] = [];

	chargeAnswers: ChargeAnswer[] = [];
	/** Run inside a call, before its usual effect; throw to make the call fail. */
	beforeReserve = async (): Promise<void> => {};
	beforeCommit = async (): Promise<void> => {};
	beforeCancelShipment = async (): Promise<void> => {};

	add(order: OrderDoc): OrderDoc {
		this.orders.set(order._id, copy(order));
		return copy(order);
	}

	stored(orderId: string): OrderDoc {
		return copy(this.orders.get(orderId)!);
	}

	count(action: string): number {
		return this.calls.filter(call => call === action).length;
	}

	async load(orderId: string): Promise<OrderDoc> {
		if (!this.orders.has(orderId)) throw orderNotFound(orderId);
		return this.stored(orderId);
	}

	async writeMove(order: OrderDoc, { from, to, guard, set, fact }: StatusChange): Promise<OrderDoc | null> {
		const doc = this.orders.get(order._id);
		if (!doc || !from.includes(doc.status) || !meets(doc, guard)) return null;
		const now = new Date().toISOString();
		for (const [path, value] of Object.entries({ status: to, updatedAt: now, ...set })) setAt(doc, path, copy(value));
		doc.statusHistory.push({ status: to, at: now });
		if (fact) this.facts.push(copy(fact));
		return copy(doc);
	}

	async markCancelling(orderId: string, reason: OrderDoc["cancelling"]): Promise<void> {
		const doc = this.orders.get(orderId);
		if (doc?.status === "PENDING") doc.cancelling = reason;
	}

	async withdrawCancelRequest(orderId: string): Promise<void> {
		const doc = this.orders.get(orderId);
		if (doc?.status === "CONFIRMED") delete doc.cancelRequested;
	}

	async reserve(orderId: string, lines: OrderLine[]): Promise<void> {
		this.calls.push("inventory.reserve");
		await this.beforeReserve();
		if (lines.length > 0 && !this.stock.has(orderId)) this.stock.set(orderId, "RESERVED");
	}

	async commit(orderId: string): Promise<void> {
		this.calls.push("inventory.commit");
		await this.beforeCommit();
		if (this.stock.get(orderId) === "RESERVED") this.stock.set(orderId, "COMMITTED");
		else if (this.stock.get(orderId) !== "COMMITTED")
			throw new Errors.MoleculerClientError("The stock reservation is gone (expired or released)", 409, "RESERVATION_GONE", { orderId });
	}

	async release(orderId: string): Promise<void> {
		this.calls.push("inventory.release");
		if (this.stock.get(orderId) === "RESERVED") this.stock.set(orderId, "RELEASED");
	}

	async restock(orderId: string): Promise<void> {
		this.calls.push("inventory.restock");
		if (this.stock.get(orderId) === "COMMITTED") this.stock.set(orderId, "RESTOCKED");
	}

	async charge({ orderId, amount, currency }: ChargeRequest): Promise<Payment> {
		this.calls.push("payments.charge");
		const existing = this.payments.get(orderId);
		if (existing && (this.voided.has(orderId) || (existing.status !== "PENDING" && existing.status !== "FAILED"))) return copy(existing);
		const answer = this.chargeAnswers.shift() ?? "CAPTURED";
		const payment: Payment = { orderId, amount, currency, status: "FAILED", brand: "visa", last4: "4242" };
		if (answer instanceof Error) {
			this.payments.set(orderId, payment);
			throw answer;
		}
		this.payments.set(orderId, { ...payment, status: answer });
		return copy(this.payments.get(orderId)!);
	}

	async refund(orderId: string): Promise<Payment> {
		this.calls.push("payments.refund");
		const payment = this.payments.get(orderId) ?? { orderId, amount: 0, currency: "USD", status: "FAILED", brand: "", last4: "" };
		if (payment.status === "CAPTURED") payment.status = "REFUNDED";
		if (payment.status === "FAILED" || payment.status === "PENDING") this.voided.add(orderId);
		this.payments.set(orderId, payment);
		return copy(payment);
	}

	async paymentOf(orderId: string): Promise<Payment> {
		this.calls.push("payments.get");
		const payment = this.payments.get(orderId);
		if (!payment) throw new Errors.MoleculerClientError("No payment for this order", 404, "NOT_FOUND", { orderId });
		return copy(payment);
	}

	async cancelShipment(): Promise<void> {
		this.calls.push("shipping.cancel");
		await this.beforeCancelShipment();
	}

	async pause(ms: number): Promise<void> {
		this.pauses.push(ms);
	}
}
