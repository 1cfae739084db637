// Checkout end to end through the gateway: BENCH_USERS shoppers, each
// adding an item to the cart and checking out in a loop. Signs everyone up,
// says {ready}, then shops for the seconds the parent's {go} message names
// and sends back every order's latency and completion time, so the parent can
// cut the run into windows and divide each process's CPU by the orders in it.
import { randomUUID } from "node:crypto";
import type { AuthResult, Order, Page, Product } from "../lib/contract/contract";
import { DEVELOPMENT_ADMIN } from "../lib/platform/env";

const base = process.env.BENCH_URL!;
const users = Number(process.env.BENCH_USERS ?? 20);
const card = { number: "4242424242424242", expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" };
const address = { name: "Bench", line1: "1 Load St", city: "Springfield", postalCode: "12345", country: "US" };

export interface CheckoutRun {
	/** Per order: ms from adding to the cart to the checkout's answer. */
	latencies: number[];
	/** Per order: when it was answered (Date.now()). */
	completedAt: number[];
	errors: number;
	confirmed: number;
	cancelled: number;
	/** The first few failures, for the report. */
	failures: string[];
}

async function api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
	const res = await fetch(`${base}/api${path}`, {
		method,
		headers: { "content-type": "application/json", ...headers },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function shop(shoppers: AuthResult[], products: Product[], seconds: number): Promise<CheckoutRun> {
	const run: CheckoutRun = { latencies: [], completedAt: [], errors: 0, confirmed: 0, cancelled: 0, failures: [] };
	const end = Date.now() + seconds * 1000;
	const fail = (what: string) => {
		run.errors++;
		if (run.failures.length < 5) run.failures.push(what);
	};
	await Promise.all(
		shoppers.map(async shopper => {
			const auth = { authorization: `Bearer ${shopper.accessToken}` };
			while (Date.now() < end) {
				const product = products[Math.floor(Math.random() * products.length)];
				const started = process.hrtime.bigint();
				const added = await api("POST", "/cart/items", { productId: product.id, quantity: 1 }, auth);
				if (added.status !== 200) {
					fail(`cart ${added.status} ${JSON.stringify(added.body)}`);
					continue;
				}
				const placed = await api<Order>(
					"POST",
					"/orders",
					{ shippingAddress: address, payment: { card } },
					{ ...auth, "idempotency-key": randomUUID() },
				);
				run.latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
				run.completedAt.push(Date.now());
				if (placed.status >= 400) fail(`checkout ${placed.status} ${JSON.stringify(placed.body)}`);
				else if (placed.body.status === "CONFIRMED") run.confirmed++;
				else run.cancelled++;
			}
		}),
	);
	return run;
}

/** A set-up step that must succeed. */
async function must<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
	const res = await api<T>(method, path, body, headers);
	if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body;
}

async function main(): Promise<void> {
	const admin = await must<AuthResult>("POST", "/auth/login", DEVELOPMENT_ADMIN);
	const products = (await must<Page<Product>>("GET", "/products?pageSize=100")).rows;
	// Plenty of stock: this measures the saga, not running out.
	for (const product of products) await must("PATCH", `/inventory/${product.id}`, { available: 1_000_000 }, { authorization: `Bearer ${admin.accessToken}` });
	const shoppers = await Promise.all(
		Array.from({ length: users }, () =>
			must<AuthResult>("POST", "/auth/register", { email: `bench-${randomUUID()}@example.com`, password: "bench password 123", name: "Bench" }),
		),
	);
	process.once("message", async (message: { go: number }) => {
		const run = await shop(shoppers, products, message.go);
		// Exit once the result is out: a large message is still being written when send() returns.
		process.send!(run, undefined, {}, () => process.exit(0));
	});
	process.send!({ ready: true });
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
