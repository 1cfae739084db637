// Shipping rules without a broker: the quote, shipment progress and the
// carrier's webhook signature.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Cents, LineItem, ShipmentStatus } from "../../lib/contract/contract";

export const CARRIER = "SIMPOST";
export const FREE_SHIPPING_FROM: Cents = 10_000;

/** Flat rate plus a little per extra unit; free from a subtotal of 100.00. */
export function quote(items: Pick<LineItem, "quantity" | "unitPrice">[]): Cents {
	const units = items.reduce((sum, item) => sum + item.quantity, 0);
	const subtotal = items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
	if (units === 0 || subtotal >= FREE_SHIPPING_FROM) return 0;
	return 499 + 99 * (units - 1);
}

export function trackingNumber(): string {
	return `SP${randomBytes(6).toString("hex").toUpperCase()}`;
}

const NEXT: Partial<Record<ShipmentStatus, ShipmentStatus>> = { CREATED: "SHIPPED", SHIPPED: "DELIVERED" };

export function nextStatus(status: ShipmentStatus): ShipmentStatus | undefined {
	return NEXT[status];
}

/** The statuses a shipment may be in for `target` to be a step forward. */
export function predecessors(target: ShipmentStatus): ShipmentStatus[] {
	return target === "SHIPPED" ? ["CREATED"] : target === "DELIVERED" ? ["CREATED", "SHIPPED"] : [];
}

/** `sha256=<hex HMAC of the raw body>`, as the carrier sends in X-Signature. */
export function signature(rawBody: string, secret: string): string {
	return `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
}

export function signatureValid(rawBody: string | undefined, header: string | undefined, secret: string): boolean {
	if (rawBody == null || !header) return false;
	const expected = Buffer.from(signature(rawBody, secret));
	const given = Buffer.from(header);
	return expected.length === given.length && timingSafeEqual(expected, given);
}
