// What each fact tells the customer.
import type { Cents } from "../../lib/contract/contract";

export type Template = "welcome" | "order-confirmed" | "order-cancelled" | "order-shipped" | "order-delivered";

const money = (cents: Cents, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;

export function render(template: Template, data: Record<string, unknown>): { subject: string; body: string } {
	const order = String(data.orderId ?? "").slice(0, 8);
	switch (template) {
		case "welcome":
			return { subject: "Welcome to the shop", body: `Hello ${data.name}, your account is ready.` };
		case "order-confirmed":
			return { subject: `Order ${order} confirmed`, body: `We received your order of ${money(data.total as Cents, String(data.currency))}.` };
		case "order-cancelled":
			return { subject: `Order ${order} cancelled`, body: `Your order was cancelled (${String(data.reason).toLowerCase().replace(/_/g, " ")}).` };
		case "order-shipped":
			return { subject: `Order ${order} shipped`, body: `Your parcel is on its way with ${data.carrier}, tracking ${data.trackingNumber}.` };
		case "order-delivered":
			return { subject: `Order ${order} delivered`, body: `Your parcel ${data.trackingNumber} was delivered.` };
	}
}
