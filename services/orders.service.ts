// services/orders.service.ts — checkout (docs/architecture.md, "Checkout saga"),
// orders and their history. The order is written PENDING first; every step
// after it (reserve, charge, commit) is idempotent by order id, so any node
// may drive a PENDING order to its end: the one that took the request, or,
// once that one's lease on the order lapses, any orders node that sweeps.
import { randomUUID } from "node:crypto";
import { Errors, type Context } from "moleculer";
import { DbMixin, exportAction, type DbServiceSchema } from "../mixins/db.mixin";
import { Authorized, currentUser, type ClientMeta } from "../mixins/auth.mixin";
import { fact, Outbox, outboxFields, withFacts, type OutboxFact, type OutboxService } from "../mixins/outbox.mixin";
import { insertIfAbsent } from "../lib/db-errors";
import { assertChargeable, cardRule, cardSummary } from "../lib/cards";
import { addressRule, assertIdempotencyKey, fingerprint, keyReused, orderNotFound, toOrder, totals, type OrderDoc } from "../lib/orders";
import { pageParams, type PageParams } from "../lib/paging";
import { readEnv } from "../lib/env";
import { countEvent, ORDERS } from "../lib/business-metrics";
import { runEvery } from "../lib/periodic";
import {
	Channels, type Address, type CancelReason, type Card, type Cart, type LineItem, type Order, type OrderStatus, type Page, type Payment, type Product, type ShipmentFact,
} from "../lib/contract";

const RECOVERY_SWEEP_MS = 3000;
/** Like Stripe's: a key replays its first result for a day, then may be used again. */
const IDEMPOTENCY_KEY_TTL_MS = 24 * 3600_000;
const CHARGE_ATTEMPTS = 3;
const SAGA_SERVICES = ["inventory.reserve", "payments.charge", "inventory.commit"];

type CheckoutCtx = Context<{ shippingAddress: Address; payment: { card: Card } }, ClientMeta & { idempotencyKey?: string }>;

interface OrdersService extends OutboxService {
	stopRecovery?: () => void;
	/** How long the node that took an order may drive it before others take over (ORDER_LEASE_MS). */
	leaseMs: number;
	load(id: string): Promise<OrderDoc>;
	runSaga(ctx: Context, order: OrderDoc, card?: Card): Promise<OrderDoc>;
	charge(ctx: Context, order: OrderDoc, card?: Card): Promise<Payment>;
	confirm(order: OrderDoc, payment: Payment): Promise<OrderDoc>;
	cancel(ctx: Context, order: OrderDoc, reason: CancelReason): Promise<OrderDoc>;
	cancelByCustomer(ctx: Context, order: OrderDoc): Promise<OrderDoc>;
	/** `extra` goes into the fact's payload; `guard` adds conditions the order must meet. The order as it became, or null if it did not move. */
	transition(order: OrderDoc, from: OrderStatus[], to: OrderStatus, set?: Record<string, unknown>, channel?: string, extra?: Record<string, unknown>, guard?: Record<string, unknown>): Promise<OrderDoc | null>;
	recoverPending(): Promise<void>;
	priceCart(ctx: Context, cart: Cart): Promise<LineItem[]>;
	/** Inserts the new order; on a key already used, the earlier order (or the insert again, once an expired key is retired). */
	place(doc: OrderDoc, replay: () => Promise<Order | undefined>): Promise<Order | undefined>;
	visibleOrder(ctx: Context<unknown, ClientMeta>, id: string): Promise<OrderDoc>;
}

function isRetryable(err: unknown): boolean {
	return Boolean((err as { retryable?: boolean }).retryable) || (err as { code?: number }).code === 503;
}

function orderFact(order: OrderDoc, extra: Record<string, unknown> = {}) {
	return { orderId: order._id, userId: order.userId, email: order.email, total: order.total, currency: order.currency, ...extra };
}

const OrdersService: DbServiceSchema<OrdersService> = {
	name: "orders",
	mixins: [
		DbMixin({
			fields: {
				userId: { type: String, required: true, index: true },
				email: String,
				idemKey: { type: String, required: true },
				fingerprint: String,
				items: Array,
				subtotal: Number,
				shippingCost: Number,
				total: Number,
				currency: String,
				status: { type: String, required: true, index: true },
				cancelReason: String,
				cancelling: String,
				// Indexed for the recovery sweep: true only while a customer's cancel is in progress.
				cancelRequested: { type: Boolean, index: true },
				statusHistory: Array,
				shippingAddress: Object,
				payment: Object,
				shipment: Object,
				lease: Object,
				...outboxFields,
			},
			unique: ["idemKey"],
		}),
		Authorized,
		Outbox,
	],

	actions: {
		checkout: {
			access: "user",
			// The saga makes several calls and retries a flaky provider: more than the default budget.
			timeout: 25_000,
			retryPolicy: { enabled: false },
			params: { shippingAddress: addressRule, payment: { type: "object", strict: "remove", props: { card: cardRule } }, $$strict: "remove" },
			async handler(this: OrdersService, ctx: CheckoutCtx): Promise<Order> {
				const user = currentUser(ctx);
				const key = assertIdempotencyKey(ctx.meta.idempotencyKey);
				const { shippingAddress, payment } = ctx.params;
				const print = fingerprint(shippingAddress, payment.card);
				const idemKey = `${user.id}:${key}`;

				const replay = async (): Promise<Order | undefined> => {
					const [earlier] = (await this.adapter.find({ query: { idemKey }, limit: 1 })) as OrderDoc[];
					if (!earlier) return undefined;
					if (Date.parse(earlier.createdAt) < Date.now() - IDEMPOTENCY_KEY_TTL_MS) {
						// Expired: the old order keeps a retired key and this request is new.
						await this.adapter.updateMany({ _id: earlier._id, idemKey }, { $set: { idemKey: `${idemKey}:retired:${earlier._id}` } });
						return undefined;
					}
					if (earlier.fingerprint !== print) throw keyReused();
					return toOrder(earlier);
				};

				// Fail fast, before anything is written, when a step of the saga has nobody to run it.
				for (const action of SAGA_SERVICES) {
					if (this.broker.findNextActionEndpoint(action) instanceof Error) throw new Errors.ServiceNotAvailableError({ action });
				}
				assertChargeable(payment.card);
				const cart = await ctx.call<Cart & { version: number }, object>("carts.ofUser", { userId: user.id });
				if (cart.items.length === 0) {
					// A repeat of a request whose order emptied the cart.
					const earlier = await replay();
					if (earlier) return earlier;
					throw new Errors.MoleculerClientError("The cart is empty", 422, "CART_EMPTY", { field: "cart" });
				}
				const items = await this.priceCart(ctx, cart);
				const { cost } = await ctx.call<{ cost: number }, object>("shipping.quote", { items });

				const now = new Date();
				const doc: OrderDoc = {
					_id: randomUUID(), userId: user.id, email: user.email, idemKey, fingerprint: print, items, ...totals(items, cost), currency: cart.currency,
					status: "PENDING", statusHistory: [{ status: "PENDING", at: now.toISOString() }], shippingAddress,
					payment: { status: "PENDING", ...cardSummary(payment.card) },
					lease: { owner: this.broker.nodeID, until: new Date(now.getTime() + this.leaseMs).toISOString() },
					createdAt: now.toISOString(), updatedAt: now.toISOString(),
				};
				// The key's unique index decides: a repeat (or a race) finds the earlier order here.
				const earlier = await this.place(doc, replay);
				if (earlier) return earlier;
				countEvent(this.broker, ORDERS, { status: "PENDING" });

				let order: OrderDoc;
				try {
					order = await this.runSaga(ctx, doc, payment.card);
				} catch (err) {
					// A step is down or slow: the order stays PENDING and a sweep finishes it.
					this.logger.warn(`Order ${doc._id} left PENDING: ${(err as Error).message}`);
					order = await this.load(doc._id);
				}
				// The cart as it was priced; one changed since keeps what was added.
				if (order.status === "CONFIRMED") await ctx.call("carts.clearOfUser", { userId: user.id, version: cart.version }).catch(() => undefined);
				return toOrder(order);
			},
		},

		list: {
			access: "user",
			params: { ...pageParams, $$strict: "remove" },
			async handler(this: OrdersService, ctx: Context<PageParams, ClientMeta>): Promise<Page<Order>> {
				const user = currentUser(ctx);
				const query = user.roles.includes("admin") ? {} : { userId: user.id };
				const page = await this.findPage<OrderDoc>(ctx, { query, sort: ["-createdAt", "_id"], ...ctx.params });
				return { ...page, rows: page.rows.map(row => toOrder({ ...row, _id: (row as unknown as { id: string }).id })) };
			},
		},

		get: {
			access: "user",
			params: { id: { type: "string", min: 1, max: 64 } },
			async handler(this: OrdersService, ctx: Context<{ id: string }, ClientMeta>): Promise<Order> {
				return toOrder(await this.visibleOrder(ctx, ctx.params.id));
			},
		},

		cancel: {
			access: "user",
			params: { id: { type: "string", min: 1, max: 64 } },
			async handler(this: OrdersService, ctx: Context<{ id: string }, ClientMeta>): Promise<Order> {
				const order = await this.visibleOrder(ctx, ctx.params.id);
				if (order.status === "CANCELLED") return toOrder(order);
				if (order.status === "PENDING") throw new Errors.MoleculerClientError("The order is still being placed; try again in a moment", 409, "ORDER_IN_PROGRESS");
				if (order.status !== "CONFIRMED" || order.shipment?.status === "SHIPPED") {
					throw new Errors.MoleculerClientError("A shipped order cannot be cancelled", 409, "ORDER_SHIPPED");
				}
				// Claim the cancellation while the order is still unshipped; the
				// shipped transition checks the same flag, so exactly one of them wins.
				const claimed = await this.adapter.updateMany({ _id: order._id, status: "CONFIRMED", "shipment.status": { $ne: "SHIPPED" } }, { $set: { cancelRequested: true } });
				const current = await this.load(order._id);
				if (claimed !== 1 && !current.cancelRequested) throw new Errors.MoleculerClientError("A shipped order cannot be cancelled", 409, "ORDER_SHIPPED");
				return toOrder(await this.cancelByCustomer(ctx, current));
			},
		},

		// --- internal: the consistency check ---
		all: exportAction({}, toOrder),
	},

	channels: {
		[Channels.SHIPMENT_CREATED]: {
			group: "orders",
			async handler(this: OrdersService, shipment: ShipmentFact) {
				const info = { carrier: shipment.carrier, trackingNumber: shipment.trackingNumber, status: shipment.status };
				await this.adapter.updateMany({ _id: shipment.orderId, shipment: { $exists: false } }, { $set: { shipment: info, updatedAt: new Date().toISOString() } });
			},
		},
		[Channels.SHIPMENT_SHIPPED]: {
			group: "orders",
			async handler(this: OrdersService, shipment: ShipmentFact) {
				const order = await this.load(shipment.orderId);
				await this.transition(order, ["CONFIRMED"], "SHIPPED", { "shipment.status": "SHIPPED" }, undefined, {}, { cancelRequested: { $ne: true } });
			},
		},
		[Channels.SHIPMENT_DELIVERED]: {
			group: "orders",
			async handler(this: OrdersService, shipment: ShipmentFact) {
				const order = await this.load(shipment.orderId);
				await this.transition(order, ["CONFIRMED", "SHIPPED"], "DELIVERED", { "shipment.status": "DELIVERED" }, undefined, {}, { cancelRequested: { $ne: true } });
			},
		},
		[Channels.SHIPMENT_CANCELLED]: {
			group: "orders",
			async handler(this: OrdersService, shipment: ShipmentFact) {
				await this.adapter.updateMany({ _id: shipment.orderId }, { $set: { "shipment.status": "CANCELLED", updatedAt: new Date().toISOString() } });
			},
		},
	},

	methods: {
		async load(this: OrdersService, id: string): Promise<OrderDoc> {
			const doc = (await this.adapter.findById(id)) as OrderDoc | null;
			if (!doc) throw orderNotFound(id);
			return doc;
		},

		/** The owner's or, for an admin, anyone's; 404 otherwise, so ids do not leak. */
		async visibleOrder(this: OrdersService, ctx: Context<unknown, ClientMeta>, id: string): Promise<OrderDoc> {
			const user = currentUser(ctx);
			const doc = (await this.adapter.findById(id)) as OrderDoc | null;
			if (!doc || (doc.userId !== user.id && !user.roles.includes("admin"))) throw orderNotFound(id);
			return doc;
		},

		/** Names and prices from the catalog now, not from when the cart was filled. */
		async priceCart(this: OrdersService, ctx: Context, cart: Cart): Promise<LineItem[]> {
			return Promise.all(
				cart.items.map(async item => {
					const product = await ctx.call<Product, object>("products.get", { id: item.productId }).catch(err => {
						if ((err as { code?: number }).code === 404) {
							throw new Errors.MoleculerClientError("A product in the cart is no longer sold", 422, "PRODUCT_UNAVAILABLE", { productId: item.productId });
						}
						throw err;
					});
					return { productId: product.id, name: product.name, unitPrice: product.price, quantity: item.quantity };
				}),
			);
		},

		async place(this: OrdersService, doc: OrderDoc, replay: () => Promise<Order | undefined>): Promise<Order | undefined> {
			const insert = () => insertIfAbsent(this.adapter.insert({ ...doc, outbox: [], outboxPending: false }));
			if (await insert()) return undefined;
			const earlier = await replay();
			if (earlier) return earlier;
			if (await insert()) return undefined; // the earlier order's key had expired and is retired now
			const raced = await replay();
			if (raced) return raced;
			throw new Errors.MoleculerRetryableError("The Idempotency-Key is in use by a request in progress; try again", 409, "IDEMPOTENCY_KEY_BUSY");
		},

		/** reserve -> charge -> commit -> CONFIRMED, or compensate and CANCELLED. `order` as last read or written. */
		async runSaga(this: OrdersService, ctx: Context, order: OrderDoc, card?: Card): Promise<OrderDoc> {
			const id = order._id;
			if (order.status !== "PENDING") return order;
			if (order.cancelling) return this.cancel(ctx, order, order.cancelling);

			try {
				await ctx.call("inventory.reserve", { orderId: id, items: order.items.map(({ productId, quantity }) => ({ productId, quantity })) });
			} catch (err) {
				if ((err as { type?: string }).type === "OUT_OF_STOCK") return this.cancel(ctx, order, "OUT_OF_STOCK");
				throw err;
			}

			const payment = await this.charge(ctx, order, card);
			if (payment.status === "DECLINED") return this.cancel(ctx, order, "PAYMENT_DECLINED");
			if (payment.status !== "CAPTURED") return this.cancel(ctx, order, "PAYMENT_ERROR");

			try {
				await ctx.call("inventory.commit", { orderId: id });
			} catch (err) {
				if ((err as { type?: string }).type === "RESERVATION_GONE") return this.cancel(ctx, order, "OUT_OF_STOCK");
				throw err;
			}
			return this.confirm(order, payment);
		},

		/**
		 * With the card (the request's own saga): charge, retrying a transient
		 * failure a few times. Without it (a node taking over): the card is gone,
		 * so whatever the provider already did stands; a charge that never
		 * completed is voided so it cannot complete later.
		 */
		async charge(this: OrdersService, ctx: Context, order: OrderDoc, card?: Card): Promise<Payment> {
			if (!card) {
				const existing = await ctx.call<Payment, object>("payments.get", { orderId: order._id }).catch(() => null);
				if (existing && (existing.status === "CAPTURED" || existing.status === "DECLINED")) return existing;
				return ctx.call<Payment, object>("payments.refund", { orderId: order._id });
			}
			for (let attempt = 1; ; attempt++) {
				try {
					return await ctx.call<Payment, object>("payments.charge", { orderId: order._id, amount: order.total, currency: order.currency, card });
				} catch (err) {
					if (!isRetryable(err)) throw err;
					if (attempt >= CHARGE_ATTEMPTS) return ctx.call<Payment, object>("payments.refund", { orderId: order._id });
					await new Promise(resolve => setTimeout(resolve, 100 * 2 ** attempt));
				}
			}
		},

		async confirm(this: OrdersService, order: OrderDoc, payment: Payment): Promise<OrderDoc> {
			const confirmed = await this.transition(order, ["PENDING"], "CONFIRMED", { payment: { status: payment.status, brand: payment.brand, last4: payment.last4 } }, Channels.ORDER_CONFIRMED, {
				shippingAddress: order.shippingAddress,
				items: order.items.map(({ productId, quantity }) => ({ productId, quantity })),
			});
			return confirmed ?? this.load(order._id); // another node finished it first
		},

		/** A cancel the customer asked for (cancelRequested is set): shipping decides first whether the parcel left. */
		async cancelByCustomer(this: OrdersService, ctx: Context, order: OrderDoc): Promise<OrderDoc> {
			try {
				await ctx.call("shipping.cancel", { orderId: order._id, userId: order.userId });
			} catch (err) {
				// Too late (or shipping is down): the order stays as it was.
				await this.adapter.updateMany({ _id: order._id, status: "CONFIRMED" }, { $unset: { cancelRequested: true } });
				throw err;
			}
			return this.cancel(ctx, order, "CUSTOMER_REQUEST");
		},

		/** Compensate (release or restock, refund or void), then CANCELLED. Safe to repeat. */
		async cancel(this: OrdersService, ctx: Context, order: OrderDoc, reason: CancelReason): Promise<OrderDoc> {
			const from: OrderStatus[] = reason === "CUSTOMER_REQUEST" ? ["CONFIRMED"] : ["PENDING"];
			if (reason !== "CUSTOMER_REQUEST") await this.adapter.updateMany({ _id: order._id, status: "PENDING" }, { $set: { cancelling: reason } });
			const payment = await ctx.call<Payment, object>("payments.refund", { orderId: order._id });
			await ctx.call(reason === "CUSTOMER_REQUEST" ? "inventory.restock" : "inventory.release", { orderId: order._id });
			const paymentStatus = payment?.status === "CAPTURED" ? "REFUNDED" : (payment?.status ?? "FAILED");
			const cancelled = await this.transition(order, from, "CANCELLED", { cancelReason: reason, "payment.status": reason === "PAYMENT_DECLINED" ? "DECLINED" : paymentStatus }, Channels.ORDER_CANCELLED, { reason });
			return cancelled ?? this.load(order._id);
		},

		/** One conditional update: the status moves once, with its history entry and its fact. */
		async transition(this: OrdersService, order, from, to, set = {}, channel, extra = {}, guard = {}): Promise<OrderDoc | null> {
			const now = new Date().toISOString();
			const update = { $set: { status: to, updatedAt: now, ...set }, $push: { statusHistory: { status: to, at: now } } };
			const moved = (await this.adapter.findOneAndUpdate({ _id: order._id, status: { $in: from }, ...guard }, channel ? withFacts(update, fact(channel, orderFact(order, extra))) : update)) as (OrderDoc & { outbox?: OutboxFact[] }) | null;
			if (!moved) return null;
			countEvent(this.broker, ORDERS, { status: to });
			if (channel) await this.publishFacts(moved._id, moved.outbox);
			return moved;
		},

		/** PENDING orders whose lease lapsed (their node died), and cancellations cut short. */
		async recoverPending(this: OrdersService): Promise<void> {
			const now = new Date();
			const stale = (await this.adapter.find({ query: { status: "PENDING", "lease.until": { $lt: now.toISOString() } }, limit: 20 })) as OrderDoc[];
			const cutShort = (await this.adapter.find({ query: { status: "CONFIRMED", cancelRequested: true, updatedAt: { $lt: new Date(now.getTime() - this.leaseMs).toISOString() } }, limit: 20 })) as OrderDoc[];
			for (const order of [...stale, ...cutShort]) {
				const lease = { owner: this.broker.nodeID, until: new Date(now.getTime() + this.leaseMs).toISOString() };
				// Take the lease only if nobody else took it since we read it.
				const taken = await this.adapter.updateMany({ _id: order._id, "lease.until": order.lease.until, "lease.owner": order.lease.owner }, { $set: { lease, updatedAt: now.toISOString() } });
				if (taken !== 1) continue;
				const ctx = this.broker.ContextFactory.create(this.broker, null as never, {}, { requestID: `recovery-${order._id}` }) as Context;
				try {
					if (order.status === "PENDING") await this.runSaga(ctx, await this.load(order._id));
					else await this.cancelByCustomer(ctx, order);
					this.logger.info(`Recovered order ${order._id}`);
				} catch (err) {
					this.logger.warn(`Order ${order._id} still unfinished: ${(err as Error).message}`);
				}
			}
		},
	},

	created(this: OrdersService) {
		this.leaseMs = readEnv().orderLeaseMs;
	},

	started(this: OrdersService) {
		this.stopRecovery = runEvery(RECOVERY_SWEEP_MS, () => this.recoverPending(), err => this.logger.warn(`Recovery sweep failed: ${err.message}`));
	},

	stopped(this: OrdersService) {
		this.stopRecovery?.();
	},
};

export default OrdersService;
