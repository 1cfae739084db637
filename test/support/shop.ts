// A shopper's moves through the REST API, for the commerce tests.
import { randomUUID } from "node:crypto";
import { request, type JsonResponse } from "./http";
import { DEVELOPMENT_ADMIN } from "../../lib/platform/env";
import type { AuthResult, Card, Order, Page, Product } from "../../lib/contract/contract";

export const cards = {
	ok: "4242424242424242",
	declined: "4000000000000002",
	insufficientFunds: "4000000000009995",
	transient: "4000000000000119",
	otherValid: "5555555555554444",
	luhnInvalid: "4242424242424241",
};

export const address = { name: "Ada Lovelace", line1: "1 Analytical Way", city: "London", postalCode: "N1 9GU", country: "GB" };

export function card(number: string): Card {
	return { number, expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" };
}

export class Shopper {
	constructor(
		readonly base: string,
		readonly auth: AuthResult,
	) {}

	static async register(base: string, headers: Record<string, string> = {}): Promise<Shopper> {
		const res = await request<AuthResult>(`${base}/api/auth/register`, {
			method: "POST",
			body: { email: `shopper-${randomUUID()}@example.com`, password: "correct horse battery", name: "Shopper" },
			headers,
		});
		if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
		return new Shopper(base, res.body);
	}

	static async admin(base: string): Promise<Shopper> {
		const res = await request<AuthResult>(`${base}/api/auth/login`, { method: "POST", body: DEVELOPMENT_ADMIN });
		return new Shopper(base, res.body);
	}

	get headers(): Record<string, string> {
		return { authorization: `Bearer ${this.auth.accessToken}` };
	}

	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
		return request<T>(`${this.base}/api${path}`, { method, body, headers: { ...this.headers, ...headers } });
	}

	addToCart(productId: string, quantity: number) {
		return this.call("POST", "/cart/items", { productId, quantity });
	}

	checkout(number = cards.ok, key: string = randomUUID(), shippingAddress: object = address) {
		return this.call<Order>("POST", "/orders", { shippingAddress, payment: { card: card(number) } }, { "Idempotency-Key": key });
	}

	/** Fills the cart with `quantity` of `productId` and checks out with `number`. */
	async buy(productId: string, quantity: number, number = cards.ok) {
		const added = await this.addToCart(productId, quantity);
		if (added.status !== 200) throw new Error(`add to cart failed: ${added.status} ${JSON.stringify(added.body)}`);
		return this.checkout(number);
	}
}

export async function someProduct(base: string, category = "books", index = 0): Promise<Product> {
	const res = await request<Page<Product>>(`${base}/api/products?category=${category}&sort=price&pageSize=20`);
	return res.body.rows[index];
}
