// The commerce flow through the gateway, the whole app in one broker, on NeDB
// and on the MongoDB server. After every test the invariants of
// docs/architecture.md, "Invariants", must hold.
import { randomUUID } from "node:crypto";
import type { ServiceSchema } from "moleculer";
import { allServices, describeEachDatabase, startApp, type TestApp } from "../support/app";
import { request } from "../support/http";
import { address, card, cards, Shopper, someProduct } from "../support/shop";
import { eventually } from "../support/wait";
import { checkConsistency } from "../../lib/ops/consistency";
import { DEVELOPMENT_WEBHOOK_SECRET } from "../../lib/platform/env";
import { signature } from "../../services/shipping/shipment";
import type { Availability, Cart, ErrorBody, Notification, Order, Page, Product } from "../../lib/contract/contract";

describeEachDatabase("commerce over HTTP", backend => {
	let app: TestApp;
	let admin: Shopper;
	let productIndex = 0;
	/** A product of its own for each test, so stock counts are predictable. */
	const freshProduct = async (units = 50): Promise<Product> => {
		const product = await someProduct(
			app.url,
			["books", "kitchen", "outdoor", "toys", "apparel", "electronics"][productIndex % 6],
			Math.floor(productIndex / 6),
		);
		productIndex++;
		const res = await admin.call<Availability>("PATCH", `/inventory/${product.id}`, { available: units });
		expect(res.status).toBe(200);
		return product;
	};
	const availability = async (productId: string) => (await request<Availability>(`${app.url}/api/inventory/${productId}`)).body;
	const inbox = async (shopper: Shopper) => (await shopper.call<Page<Notification>>("GET", "/notifications")).body.rows.map(n => n.template).sort();

	beforeAll(async () => {
		app = await startApp(allServices(), { ...backend.env(), AUTH_RATE_LIMIT: "10000", RATE_LIMIT: "100000", METRICS_PORT: "0" });
		admin = await Shopper.admin(app.url);
	});
	/** The Prometheus text this node serves (on a random port under test). */
	const metrics = async () => {
		const reporter = (app.broker.metrics as unknown as { reporter: { server: { address(): { port: number } } }[] }).reporter[0];
		return (await fetch(`http://127.0.0.1:${reporter.server.address().port}/metrics`)).text();
	};
	const counted = (text: string, metric: string, label: string) =>
		text
			.split("\n")
			.filter(line => line.startsWith(`${metric}{`) && line.includes(label))
			.reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
	afterEach(async () => {
		// Facts (shipments, messages) land asynchronously: check once the app has settled.
		const report = await eventually(
			() => checkConsistency((action, params) => app.broker.call(action, params)),
			r => r.ok,
			15_000,
		);
		expect(report.violations).toEqual([]);
	});
	afterAll(() => app.stop());

	it("takes a customer from register to DELIVERED, with a message for every step", async () => {
		const product = await freshProduct(10);
		const shopper = await Shopper.register(app.url);
		const cart = await shopper.addToCart(product.id, 2);
		expect(cart.body).toEqual({
			items: [{ productId: product.id, name: product.name, unitPrice: product.price, quantity: 2 }],
			subtotal: 2 * product.price,
			currency: "USD",
		});

		const placed = await shopper.checkout(cards.ok);
		expect(placed.status).toBe(201);
		expect(placed.headers.get("location")).toBe(`/api/orders/${placed.body.id}`);
		expect(placed.body).toMatchObject({
			status: "CONFIRMED",
			userId: shopper.auth.user.id,
			subtotal: 2 * product.price,
			currency: "USD",
			payment: { status: "CAPTURED", brand: "visa", last4: "4242" },
			shippingAddress: address,
		});
		expect(placed.body.total).toBe(placed.body.subtotal + placed.body.shippingCost);
		expect(JSON.stringify(placed.body)).not.toContain(cards.ok);
		expect(await availability(product.id)).toEqual({ productId: product.id, available: 8, reserved: 0 });
		expect((await shopper.call<Cart>("GET", "/cart")).body.items).toEqual([]);

		const id = placed.body.id;
		const withShipment = await eventually(
			() => shopper.call<Order>("GET", `/orders/${id}`),
			res => res.body.shipment != null,
		);
		expect(withShipment.body.shipment).toMatchObject({ carrier: expect.any(String), trackingNumber: expect.any(String), status: "CREATED" });

		expect((await admin.call("POST", `/shipments/${id}/advance`)).status).toBe(200);
		const shipped = await eventually(
			() => shopper.call<Order>("GET", `/orders/${id}`),
			res => res.body.status === "SHIPPED",
		);
		expect(shipped.body.status).toBe("SHIPPED");

		const event = JSON.stringify({ eventId: `evt-${randomUUID()}`, trackingNumber: withShipment.body.shipment!.trackingNumber, status: "DELIVERED" });
		const hook = await request(`${app.url}/api/shipping/webhook`, {
			method: "POST",
			rawBody: event,
			headers: { "x-signature": signature(event, DEVELOPMENT_WEBHOOK_SECRET) },
		});
		expect(hook.status).toBe(204);
		const delivered = await eventually(
			() => shopper.call<Order>("GET", `/orders/${id}`),
			res => res.body.status === "DELIVERED",
		);
		expect(delivered.body.statusHistory.map(h => h.status)).toEqual(["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED"]);
		expect(delivered.body.shipment!.status).toBe("DELIVERED");

		const messages = await eventually(
			() => inbox(shopper),
			list => list.length === 4,
		);
		expect(messages).toEqual(["order-confirmed", "order-delivered", "order-shipped", "welcome"]);
	});

	it.each([
		["declined", cards.declined, "PAYMENT_DECLINED", "DECLINED"],
		["insufficient funds", cards.insufficientFunds, "PAYMENT_DECLINED", "DECLINED"],
		["a provider that keeps failing", cards.transient, "PAYMENT_ERROR", "FAILED"],
	])("cancels an order paid with a %s card and puts the stock back", async (_name, number, reason, paymentStatus) => {
		const product = await freshProduct(5);
		const shopper = await Shopper.register(app.url);
		const res = await shopper.buy(product.id, 2, number);
		expect(res.status).toBe(201);
		expect(res.body).toMatchObject({ status: "CANCELLED", cancelReason: reason, payment: { status: paymentStatus } });
		expect(await availability(product.id)).toEqual({ productId: product.id, available: 5, reserved: 0 });
		await eventually(
			() => inbox(shopper),
			list => list.includes("order-cancelled"),
		);
		// The cart is kept so the customer can try another card.
		expect((await shopper.call<Cart>("GET", "/cart")).body.items).toHaveLength(1);
	});

	it("accepts any other Luhn-valid card and refuses a Luhn-invalid or expired one with 422 before anything is written", async () => {
		const product = await freshProduct(5);
		const shopper = await Shopper.register(app.url);
		await shopper.addToCart(product.id, 1);
		const invalid = await shopper.checkout(cards.luhnInvalid);
		expect([invalid.status, (invalid.body as unknown as ErrorBody).type]).toEqual([422, "VALIDATION_ERROR"]);
		const expired = await shopper.call(
			"POST",
			"/orders",
			{ shippingAddress: address, payment: { card: { ...card(cards.ok), expYear: 2020 } } },
			{ "Idempotency-Key": randomUUID() },
		);
		expect(expired.status).toBe(422);
		expect((await shopper.call<Page<Order>>("GET", "/orders")).body.total).toBe(0);
		const ok = await shopper.checkout(cards.otherValid);
		expect(ok.body).toMatchObject({ status: "CONFIRMED", payment: { brand: "mastercard", last4: "4444" } });
	});

	it("cancels with OUT_OF_STOCK when there are fewer units than ordered", async () => {
		const product = await freshProduct(1);
		const shopper = await Shopper.register(app.url);
		const res = await shopper.buy(product.id, 2);
		expect(res.body).toMatchObject({ status: "CANCELLED", cancelReason: "OUT_OF_STOCK" });
		expect(await availability(product.id)).toEqual({ productId: product.id, available: 1, reserved: 0 });
	});

	it("never sells the same unit twice when checkouts race for the last units", async () => {
		const product = await freshProduct(3);
		const shoppers = await Promise.all(Array.from({ length: 8 }, () => Shopper.register(app.url)));
		for (const shopper of shoppers) await shopper.addToCart(product.id, 1);
		const results = await Promise.all(shoppers.map(shopper => shopper.checkout()));
		const statuses = results.map(r => r.body.status);
		expect(statuses.filter(s => s === "CONFIRMED")).toHaveLength(3);
		expect(statuses.filter(s => s === "CANCELLED")).toHaveLength(5);
		expect(results.filter(r => r.body.status === "CANCELLED").every(r => r.body.cancelReason === "OUT_OF_STOCK")).toBe(true);
		expect(await availability(product.id)).toEqual({ productId: product.id, available: 0, reserved: 0 });
	});

	it("answers a double-submitted checkout with one order and one charge, and refuses the key for another request", async () => {
		const product = await freshProduct(5);
		const shopper = await Shopper.register(app.url);
		await shopper.addToCart(product.id, 1);
		const key = randomUUID();
		const [first, second] = await Promise.all([shopper.checkout(cards.ok, key), shopper.checkout(cards.ok, key)]);
		expect(second.body.id).toBe(first.body.id);
		const again = await shopper.checkout(cards.ok, key);
		expect([again.status, again.body.id, again.body.status]).toEqual([201, first.body.id, "CONFIRMED"]);
		expect((await shopper.call<Page<Order>>("GET", "/orders")).body.total).toBe(1);
		expect(await app.broker.call("payments.get", { orderId: first.body.id })).toMatchObject({ status: "CAPTURED" });
		expect(await availability(product.id)).toMatchObject({ available: 4 });

		const other = await shopper.checkout(cards.ok, key, { ...address, city: "Paris" });
		expect([other.status, (other.body as unknown as ErrorBody).type]).toEqual([422, "IDEMPOTENCY_KEY_REUSED"]);
		const missing = await shopper.call("POST", "/orders", { shippingAddress: address, payment: { card: card(cards.ok) } });
		expect(missing.status).toBe(422);
	});

	it("lets an Idempotency-Key be used again for a new order once it is a day old", async () => {
		const product = await freshProduct(5);
		const shopper = await Shopper.register(app.url);
		await shopper.addToCart(product.id, 1);
		const key = randomUUID();
		const first = (await shopper.checkout(cards.ok, key)).body;
		// Age the first order by two days, as the clock would.
		const orders = app.broker.getLocalService("orders") as unknown as { adapter: { updateMany(q: object, u: object): Promise<number> } };
		await orders.adapter.updateMany({ _id: first.id }, { $set: { createdAt: new Date(Date.now() - 2 * 24 * 3600_000).toISOString() } });
		await shopper.addToCart(product.id, 1);
		const second = await shopper.checkout(cards.ok, key);
		expect(second.status).toBe(201);
		expect(second.body.id).not.toBe(first.id);
		expect((await shopper.call<Page<Order>>("GET", "/orders")).body.total).toBe(2);
	});

	it("lets the owner or an admin cancel a confirmed order: refunded, restocked, shipment cancelled; others get 404", async () => {
		const product = await freshProduct(5);
		const owner = await Shopper.register(app.url);
		const stranger = await Shopper.register(app.url);
		const order = (await owner.buy(product.id, 2)).body;
		expect((await stranger.call("POST", `/orders/${order.id}/cancel`)).status).toBe(404);
		expect((await stranger.call("GET", `/orders/${order.id}`)).status).toBe(404);

		const cancelled = await owner.call<Order>("POST", `/orders/${order.id}/cancel`);
		expect(cancelled.status).toBe(200);
		expect(cancelled.body).toMatchObject({ status: "CANCELLED", cancelReason: "CUSTOMER_REQUEST", payment: { status: "REFUNDED" } });
		expect(await availability(product.id)).toEqual({ productId: product.id, available: 5, reserved: 0 });
		expect((await owner.call("POST", `/orders/${order.id}/cancel`)).body.status).toBe("CANCELLED");
		await eventually(
			() => app.broker.call<{ status: string }[], object>("shipping.all", {}),
			list => list.some(s => s.status === "CANCELLED"),
		);

		const second = (await owner.buy(product.id, 1)).body;
		await eventually(
			() => owner.call<Order>("GET", `/orders/${second.id}`),
			res => res.body.shipment != null,
		);
		expect((await admin.call("POST", `/shipments/${second.id}/advance`)).status).toBe(200);
		await eventually(
			() => owner.call<Order>("GET", `/orders/${second.id}`),
			res => res.body.status === "SHIPPED",
		);
		const late = await admin.call<ErrorBody>("POST", `/orders/${second.id}/cancel`);
		expect([late.status, late.body.type]).toEqual([409, "ORDER_SHIPPED"]);
	});

	it("refuses a customer cancel once the parcel has left, even before the order has heard of it", async () => {
		const product = await freshProduct(5);
		const shopper = await Shopper.register(app.url);
		const order = (await shopper.buy(product.id, 1)).body;
		await eventually(
			() => shopper.call<Order>("GET", `/orders/${order.id}`),
			res => res.body.shipment != null,
		);
		// The carrier took the parcel; the shipment.shipped fact has not reached the orders service yet.
		const shipping = app.broker.getLocalService("shipping") as unknown as { adapter: { updateMany(q: object, u: object): Promise<number> } };
		await shipping.adapter.updateMany({ _id: order.id }, { $set: { status: "SHIPPED" } });
		const res = await shopper.call<ErrorBody>("POST", `/orders/${order.id}/cancel`);
		expect([res.status, res.body.type]).toEqual([409, "ORDER_SHIPPED"]);
		const after = (await shopper.call<Order>("GET", `/orders/${order.id}`)).body;
		expect(after).toMatchObject({ status: "CONFIRMED", payment: { status: "CAPTURED" } });
		expect(await availability(product.id)).toMatchObject({ available: 4 });
	});

	it("shows customers their own orders and admins everyone's", async () => {
		const product = await freshProduct(5);
		const a = await Shopper.register(app.url);
		const b = await Shopper.register(app.url);
		await a.buy(product.id, 1);
		await b.buy(product.id, 1);
		const mine = (await a.call<Page<Order>>("GET", "/orders")).body;
		expect(mine.rows.map(o => o.userId)).toEqual([a.auth.user.id]);
		const all = (await admin.call<Page<Order>>("GET", "/orders?pageSize=100")).body;
		expect(new Set(all.rows.map(o => o.userId))).toEqual(expect.objectContaining(new Set([a.auth.user.id, b.auth.user.id])));
		expect(all.total).toBeGreaterThanOrEqual(2);
		expect((await request(`${app.url}/api/orders`)).status).toBe(401);
	});

	it("refuses carrier webhooks with a bad or missing signature, and ignores a replayed event", async () => {
		const product = await freshProduct(5);
		const shopper = await Shopper.register(app.url);
		const order = (await shopper.buy(product.id, 1)).body;
		const { body } = await eventually(
			() => shopper.call<Order>("GET", `/orders/${order.id}`),
			res => res.body.shipment != null,
		);
		const event = JSON.stringify({ eventId: "evt-replay-1", trackingNumber: body.shipment!.trackingNumber, status: "SHIPPED" });
		const send = (headers: Record<string, string>) => request(`${app.url}/api/shipping/webhook`, { method: "POST", rawBody: event, headers });

		expect((await send({})).status).toBe(401);
		expect((await send({ "x-signature": signature(event, "not-the-secret") })).status).toBe(401);
		expect((await send({ "x-signature": signature(`${event} `, DEVELOPMENT_WEBHOOK_SECRET) })).status).toBe(401);
		expect((await send({ "x-signature": signature(event, DEVELOPMENT_WEBHOOK_SECRET) })).status).toBe(204);
		expect((await send({ "x-signature": signature(event, DEVELOPMENT_WEBHOOK_SECRET) })).status).toBe(204);
		const shipped = await eventually(
			() => shopper.call<Order>("GET", `/orders/${order.id}`),
			res => res.body.status === "SHIPPED",
		);
		expect(shipped.body.statusHistory.filter(h => h.status === "SHIPPED")).toHaveLength(1);
		await eventually(
			() => inbox(shopper),
			list => list.includes("order-shipped"),
		);
		expect((await inbox(shopper)).filter(t => t === "order-shipped")).toHaveLength(1);
	});

	it("validates cart input: unknown product 404, bad quantities 422; update, remove and clear", async () => {
		const product = await freshProduct(5);
		const shopper = await Shopper.register(app.url);
		expect((await shopper.addToCart("no-such-product", 1)).status).toBe(404);
		for (const quantity of [0, -1, 100, 1.5, "many"]) expect((await shopper.addToCart(product.id, quantity as number)).status).toBe(422);
		await shopper.addToCart(product.id, 2);
		expect((await shopper.call<Cart>("PATCH", `/cart/items/${product.id}`, { quantity: 5 })).body.items[0].quantity).toBe(5);
		expect((await shopper.call("PATCH", "/cart/items/not-in-cart", { quantity: 1 })).status).toBe(404);
		expect((await shopper.call<Cart>("DELETE", `/cart/items/${product.id}`)).body).toEqual({ items: [], subtotal: 0, currency: "USD" });
		await shopper.addToCart(product.id, 1);
		expect((await shopper.call("DELETE", "/cart")).status).toBe(204);
		expect((await shopper.call<Cart>("GET", "/cart")).body.items).toEqual([]);
		const empty = await shopper.checkout();
		expect([empty.status, (empty.body as unknown as ErrorBody).type]).toEqual([422, "CART_EMPTY"]);
		expect((await request(`${app.url}/api/cart`)).status).toBe(401);
	});

	it("counts orders by status, payments by outcome and stock reservations for Prometheus", async () => {
		const before = await metrics();
		const shopper = await Shopper.register(app.url);
		await shopper.addToCart((await freshProduct(5)).id, 1);
		expect((await shopper.checkout(cards.ok)).body.status).toBe("CONFIRMED");
		await shopper.addToCart((await freshProduct(5)).id, 1);
		expect((await shopper.checkout(cards.declined)).body.status).toBe("CANCELLED");
		const after = await metrics();
		const grew = (metric: string, label: string) => counted(after, metric, label) - counted(before, metric, label);
		expect(grew("shop_orders_total", 'status="PENDING"')).toBe(2);
		expect(grew("shop_orders_total", 'status="CONFIRMED"')).toBe(1);
		expect(grew("shop_orders_total", 'status="CANCELLED"')).toBe(1);
		expect(grew("shop_payments_total", 'outcome="CAPTURED"')).toBe(1);
		expect(grew("shop_payments_total", 'outcome="DECLINED"')).toBe(1);
		expect(grew("shop_stock_reservations_total", 'outcome="reserved"')).toBe(2);
		expect(grew("shop_stock_reservations_total", 'outcome="committed"')).toBe(1);
		expect(grew("shop_stock_reservations_total", 'outcome="released"')).toBe(1);
	});

	it("lets only admins adjust stock, never below zero", async () => {
		const product = await freshProduct(5);
		const shopper = await Shopper.register(app.url);
		expect((await shopper.call("PATCH", `/inventory/${product.id}`, { delta: 5 })).status).toBe(403);
		expect((await admin.call<Availability>("PATCH", `/inventory/${product.id}`, { delta: 3 })).body.available).toBe(8);
		expect((await admin.call("PATCH", `/inventory/${product.id}`, { delta: -9 })).status).toBe(409);
		expect((await admin.call("PATCH", `/inventory/${product.id}`, { delta: 1, available: 3 })).status).toBe(422);
		expect((await admin.call("PATCH", "/inventory/no-such-product", { delta: 1 })).status).toBe(404);
		// Found by the API fuzzing: an array was converted to 0 and emptied the stock; nor is text a number in a JSON body.
		for (const available of [[], {}, "0", null]) expect((await admin.call("PATCH", `/inventory/${product.id}`, { available })).status).toBe(422);
		expect((await shopper.call("POST", "/cart/items", { productId: product.id, quantity: [] })).status).toBe(422);
		expect((await availability(product.id)).available).toBe(8);
	});
});

describe("checkout with the payments service down", () => {
	let app: TestApp;
	beforeAll(async () => {
		const withoutPayments = allServices().filter(schema => (schema as ServiceSchema).name !== "payments");
		app = await startApp(withoutPayments, { AUTH_RATE_LIMIT: "10000" });
	});
	afterAll(() => app.stop());

	it("answers 503 at once, writes no order and reserves no stock", async () => {
		const product = await someProduct(app.url);
		await eventually(
			() => request<Availability>(`${app.url}/api/inventory/${product.id}`),
			res => res.body.available > 0,
		);
		const before = (await request<Availability>(`${app.url}/api/inventory/${product.id}`)).body;
		const shopper = await Shopper.register(app.url);
		const res = await shopper.buy(product.id, 1);
		expect([res.status, (res.body as unknown as ErrorBody).type]).toEqual([503, "SERVICE_UNAVAILABLE"]);
		expect((await shopper.call<Page<Order>>("GET", "/orders")).body.total).toBe(0);
		expect((await request<Availability>(`${app.url}/api/inventory/${product.id}`)).body).toEqual(before);
	});
});
