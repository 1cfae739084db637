// Checkout end to end through the gateway: BENCH_USERS shoppers, each
// filling a cart and checking out in a loop for BENCH_SECONDS. Sends
// {ordersPerSecond, p50, p99, errors, confirmed, cancelled, cpu} to its
// parent; cpu is the µs per order of each process named in BENCH_CPU_PIDS.
import { randomUUID } from "node:crypto";
import type { AuthResult, Order, Page, Product } from "../lib/contract";
import { DEVELOPMENT_ADMIN } from "../lib/env";
import { cpuSince, perUnit } from "./cpu";

const base = process.env.BENCH_URL!;
const users = Number(process.env.BENCH_USERS ?? 20);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
/** Processes whose CPU per order to report, {name: pid} (only while shopping, not while signing up). */
const cpuPids = JSON.parse(process.env.BENCH_CPU_PIDS ?? "{}") as Record<string, number>;
const card = { number: "4242424242424242", expMonth: 12, expYear: new Date().getUTCFullYear() + 3, cvc: "123" };
const address = { name: "Bench", line1: "1 Load St", city: "Springfield", postalCode: "12345", country: "US" };

async function api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
	const res = await fetch(`${base}/api${path}`, { method, headers: { "content-type": "application/json", ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function main(): Promise<void> {
	const admin = (await api<AuthResult>("POST", "/auth/login", DEVELOPMENT_ADMIN)).body;
	const products = (await api<Page<Product>>("GET", "/products?pageSize=100")).body.rows;
	// Plenty of stock: this measures the saga, not running out.
	for (const product of products) await api("PATCH", `/inventory/${product.id}`, { available: 1_000_000 }, { authorization: `Bearer ${admin.accessToken}` });
	const shoppers = await Promise.all(
		Array.from({ length: users }, async () => (await api<AuthResult>("POST", "/auth/register", { email: `bench-${randomUUID()}@example.com`, password: "bench password 123", name: "Bench" })).body),
	);

	const latencies: number[] = [];
	let errors = 0;
	let confirmed = 0;
	let cancelled = 0;
	const end = Date.now() + seconds * 1000;
	const shop = async (shopper: AuthResult) => {
		const auth = { authorization: `Bearer ${shopper.accessToken}` };
		while (Date.now() < end) {
			const product = products[Math.floor(Math.random() * products.length)];
			const started = process.hrtime.bigint();
			const added = await api("POST", "/cart/items", { productId: product.id, quantity: 1 }, auth);
			const placed = await api<Order>("POST", "/orders", { shippingAddress: address, payment: { card } }, { ...auth, "idempotency-key": randomUUID() });
			latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
			if (added.status !== 200 || placed.status >= 400) errors++;
			else if (placed.body.status === "CONFIRMED") confirmed++;
			else cancelled++;
		}
	};
	const began = Date.now();
	const cpuAtStart = process.cpuUsage();
	const cpuUsed = cpuSince(cpuPids);
	await Promise.all(shoppers.map(shop));
	const elapsed = (Date.now() - began) / 1000;
	const load = process.cpuUsage(cpuAtStart);
	latencies.sort((a, b) => a - b);
	process.send!({
		ordersPerSecond: (confirmed + cancelled) / elapsed,
		p50: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
		p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
		errors,
		confirmed,
		cancelled,
		cpu: perUnit(cpuUsed(), load.user + load.system, confirmed + cancelled),
	});
	process.exit(0);
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
