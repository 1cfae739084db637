// Order rules without a broker: the request fingerprint behind the
// Idempotency-Key, and the public shape of an order.
import { createHash } from "node:crypto";
import { Errors } from "moleculer";
import { cardSummary } from "../../lib/rules/cards";
import type { Address, Card, CancelReason, LineItem, Order, OrderStatus } from "../../lib/contract/contract";

export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{8,128}$/;
export const FINAL_STATUSES: OrderStatus[] = ["CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"];
export const PAID_STATUSES: OrderStatus[] = ["CONFIRMED", "SHIPPED", "DELIVERED"];

export interface OrderDoc extends Omit<Order, "id"> {
	_id: string;
	email: string;
	idemKey: string;
	fingerprint: string;
	lease: { owner: string; until: string };
	/** Set before compensating, so a node that takes over finishes the same cancellation. */
	cancelling?: CancelReason;
	cancelRequested?: boolean;
}

export const addressRule = {
	type: "object",
	strict: "remove",
	props: {
		name: { type: "string", trim: true, min: 1, max: 100 },
		line1: { type: "string", trim: true, min: 1, max: 200 },
		line2: { type: "string", trim: true, max: 200, optional: true },
		city: { type: "string", trim: true, min: 1, max: 100 },
		postalCode: { type: "string", trim: true, min: 1, max: 20 },
		country: { type: "string", pattern: "^[A-Z]{2}$", messages: { stringPattern: "country must be an ISO 3166 alpha-2 code such as US" } },
	},
} as const;

/** What makes two checkout requests "the same" for an Idempotency-Key; never the full card number. */
export function fingerprint(shippingAddress: Address, card: Card): string {
	const { brand, last4 } = cardSummary(card);
	const canonical = JSON.stringify([
		shippingAddress.name,
		shippingAddress.line1,
		shippingAddress.line2 ?? "",
		shippingAddress.city,
		shippingAddress.postalCode,
		shippingAddress.country,
		brand,
		last4,
		card.expMonth,
		card.expYear,
	]);
	return createHash("sha256").update(canonical).digest("hex");
}

export function assertIdempotencyKey(key: unknown): string {
	if (typeof key === "string" && IDEMPOTENCY_KEY.test(key)) return key;
	throw new Errors.ValidationError("An Idempotency-Key header is required", "VALIDATION_ERROR", [
		{ type: "required", field: "Idempotency-Key", message: "Send an Idempotency-Key header of 8-128 letters, digits, '-' or '_'." },
	]);
}

export function keyReused(): Errors.MoleculerClientError {
	return new Errors.MoleculerClientError("This Idempotency-Key was used for a different request", 422, "IDEMPOTENCY_KEY_REUSED", {
		field: "Idempotency-Key",
	});
}

export function orderNotFound(id: string): Errors.MoleculerClientError {
	return new Errors.MoleculerClientError("Order not found", 404, "NOT_FOUND", { id });
}

export function totals(items: LineItem[], shippingCost: number): { subtotal: number; shippingCost: number; total: number } {
	const subtotal = items.reduce((sum, item) => sum + item.unitPrice * item.quantity, 0);
	return { subtotal, shippingCost, total: subtotal + shippingCost };
}

export function toOrder(doc: OrderDoc): Order {
	return {
		id: doc._id,
		userId: doc.userId,
		items: doc.items,
		subtotal: doc.subtotal,
		shippingCost: doc.shippingCost,
		total: doc.total,
		currency: doc.currency,
		status: doc.status,
		...(doc.cancelReason && { cancelReason: doc.cancelReason }),
		statusHistory: doc.statusHistory,
		shippingAddress: doc.shippingAddress,
		payment: doc.payment,
		...(doc.shipment && { shipment: doc.shipment }),
		createdAt: doc.createdAt,
		updatedAt: doc.updatedAt,
	};
}
