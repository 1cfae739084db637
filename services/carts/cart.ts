// Cart rules without a broker: lines, limits and totals.
import { Errors } from "moleculer";
import type { Cart, LineItem, Product } from "../../lib/contract/contract";

export const MAX_QUANTITY = 99;
export const MAX_LINES = 50;
export const quantityRule = { type: "number", integer: true, min: 1, max: MAX_QUANTITY } as const;

export function totalOf(items: LineItem[], currency = "USD"): Cart {
	return { items, subtotal: items.reduce((sum, item) => sum + item.unitPrice * item.quantity, 0), currency: items[0] ? currency : "USD" };
}

/** Adds `quantity` of a catalog product: name and price come from the catalog. */
export function addLine(items: LineItem[], currency: string | undefined, product: Product, quantity: number): LineItem[] {
	if (currency && items.length > 0 && product.currency !== currency) {
		throw new Errors.MoleculerClientError(`The cart is in ${currency}; this product is priced in ${product.currency}`, 422, "CURRENCY_MISMATCH", {
			field: "productId",
		});
	}
	const existing = items.find(item => item.productId === product.id);
	const total = (existing?.quantity ?? 0) + quantity;
	if (total > MAX_QUANTITY) throw new Errors.MoleculerClientError(`At most ${MAX_QUANTITY} of one product`, 422, "QUANTITY_LIMIT", { field: "quantity" });
	if (!existing && items.length >= MAX_LINES)
		throw new Errors.MoleculerClientError(`At most ${MAX_LINES} different products`, 422, "CART_FULL", { field: "productId" });
	const line = { productId: product.id, name: product.name, unitPrice: product.price, quantity: total };
	return existing ? items.map(item => (item.productId === product.id ? line : item)) : [...items, line];
}

export function setQuantity(items: LineItem[], productId: string, quantity: number): LineItem[] {
	if (!items.some(item => item.productId === productId)) throw notInCart(productId);
	return items.map(item => (item.productId === productId ? { ...item, quantity } : item));
}

export function removeLine(items: LineItem[], productId: string): LineItem[] {
	if (!items.some(item => item.productId === productId)) throw notInCart(productId);
	return items.filter(item => item.productId !== productId);
}

function notInCart(productId: string): Errors.MoleculerClientError {
	return new Errors.MoleculerClientError("The product is not in the cart", 404, "NOT_FOUND", { productId });
}
