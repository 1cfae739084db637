// services/orders/orders.service.ts — checkout (docs/architecture.md, "Checkout
// saga"), orders and their history. The order is written PENDING first, then
// the saga (services/orders/saga.ts) drives it to its end: on the node
// that took the request, or, once that one's lease on the order lapses, on
// any orders node that sweeps. This file wires the saga to the broker: other
// services through ctx.call, the order through the adapter, facts through the
// outbox.
import { randomUUID } from "node:crypto";
import { Errors, type Context } from "moleculer";
import { DbMixin, exportAction, type DbServiceSchema } from "../../mixins/db.mixin";
import { Authorized, currentUser, type ClientMeta } from "../../mixins/auth.mixin";
import { fact, Outbox, outboxFields, withFacts, type OutboxFact, type OutboxService } from "../../mixins/outbox.mixin";
import { cancelByCustomer, resumeOrder, runSaga, type ChargeRequest, type SagaPorts } from "./saga";
import { moveStatus, type StatusChange } from "./status-moves";
import { insertIfAbsent } from "../../lib/platform/db-errors";
import { assertChargeable, cardRule, cardSummary } from "../../lib/rules/cards";
import { addressRule, assertIdempotencyKey, fingerprint, keyReused, orderNotFound, toOrder, totals, type OrderDoc } from "./order";
import { pageParams, type PageParams } from "../../lib/rules/paging";
import { readEnv } from "../../lib/platform/env";
import { countEvent, ORDERS } from "../../lib/platform/business-metrics";
import { runEvery } from "../../lib/platform/periodic";
import {
	Channels,
	type Address,
	type Card,
	type Cart,
	type LineItem,
	type Order,
	type Page,
	type Payment,
	type Product,
	type ShipmentFact,
} from "../../lib/contract/contract";
import { idRule } from "../../lib/rules/id-rule";

const RECOVERY_SWEEP_MS = 3000;
/** Like Stripe's: a key replays its first result for a day, then may be used again. */
const IDEMPOTENCY_KEY_TTL_MS = 24 * 3600_000;
const SAGA_ACTIONS = ["inventory.reserve", "payments.charge", "inventory.commit"];

type CheckoutCtx = Context<{ shippingAddress: Address; payment: { card: Card } }, ClientMeta & { idempotencyKey?: string }>;

interface OrdersService extends OutboxService {
	stopRecovery?: () => void;
	/** How long the node that took an order may drive it before others take over (ORDER_LEASE_MS). */
	leaseMs: number;
	load(id: string): Promise<OrderDoc>;
	/** What the saga calls, on this broker; other services within `ctx`. */
	sagaPorts(ctx: Context): SagaPorts;
	/** The order as it became, or null if it did not move. */
	writeMove(order: OrderDoc, change: StatusChange): Promise<OrderDoc | null>;
	recoverPending(): Promise<void>;
	priceCart(ctx: Context, cart: Cart): Promise<LineItem[]>;
	/** Inserts the new order; on a key already used, the earlier order (or the insert again, once an expired key is retired). */
	place(doc: OrderDoc, replay: () => Promise<Order | undefined>): Promise<Order | undefined>;
	visibleOrder(ctx: Context<unknown, ClientMeta>, id: string): Promise<OrderDoc>;
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
				for (const action of SAGA_ACTIONS) {
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
					_id: randomUUID(),
					userId: user.id,
					email: user.email,
					idemKey,
					fingerprint: print,
					items,
					...totals(items, cost),
					currency: cart.currency,
					status: "PENDING",
					statusHistory: [{ status: "PENDING", at: now.toISOString() }],
					shippingAddress,
					payment: { status: "PENDING", ...cardSummary(payment.card) },
					lease: { owner: this.broker.nodeID, until: new Date(now.getTime() + this.leaseMs).toISOString() },
					createdAt: now.toISOString(),
					updatedAt: now.toISOString(),
				};
				// The key's unique index decides: a repeat (or a race) finds the earlier order here.
				const earlier = await this.place(doc, replay);
				if (earlier) return earlier;
				countEvent(this.broker, ORDERS, { status: "PENDING" });

				let order: OrderDoc;
				try {
					order = await runSaga(this.sagaPorts(ctx), doc, payment.card);
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
			params: { id: idRule },
			async handler(this: OrdersService, ctx: Context<{ id: string }, ClientMeta>): Promise<Order> {
				return toOrder(await this.visibleOrder(ctx, ctx.params.id));
			},
		},

		cancel: {
			access: "user",
			params: { id: idRule },
			async handler(this: OrdersService, ctx: Context<{ id: string }, ClientMeta>): Promise<Order> {
				const order = await this.visibleOrder(ctx, ctx.params.id);
				if (order.status === "CANCELLED") return toOrder(order);
				if (order.status === "PENDING")
					throw new Errors.MoleculerClientError("The order is still being placed; try again in a moment", 409, "ORDER_IN_PROGRESS");
				if (order.status !== "CONFIRMED" || order.shipment?.status === "SHIPPED") {
					throw new Errors.MoleculerClientError("A shipped order cannot be cancelled", 409, "ORDER_SHIPPED");
				}
				// Claim the cancellation while the order is still unshipped; the
				// shipped transition checks the same flag, so exactly one of them wins.
				const claimed = await this.adapter.updateMany(
					{ _id: order._id, status: "CONFIRMED", "shipment.status": { $ne: "SHIPPED" } },
					{ $set: { cancelRequested: true } },
				);
				const current = await this.load(order._id);
				if (claimed !== 1 && !current.cancelRequested)
					throw new Errors.MoleculerClientError("A shipped order cannot be cancelled", 409, "ORDER_SHIPPED");
				return toOrder(await cancelByCustomer(this.sagaPorts(ctx), current));
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
				await this.adapter.updateMany(
					{ _id: shipment.orderId, shipment: { $exists: false } },
					{ $set: { shipment: info, updatedAt: new Date().toISOString() } },
				);
			},
		},
		[Channels.SHIPMENT_SHIPPED]: {
			group: "orders",
			async handler(this: OrdersService, shipment: ShipmentFact) {
				const order = await this.load(shipment.orderId);
				await moveStatus(this, order, { move: "ship", set: { "shipment.status": "SHIPPED" } });
			},
		},
		[Channels.SHIPMENT_DELIVERED]: {
			group: "orders",
			async handler(this: OrdersService, shipment: ShipmentFact) {
				const order = await this.load(shipment.orderId);
				await moveStatus(this, order, { move: "deliver", set: { "shipment.status": "DELIVERED" } });
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
							throw new Errors.MoleculerClientError("A product in the cart is no longer sold", 422, "PRODUCT_UNAVAILABLE", {
								productId: item.productId,
							});
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

		sagaPorts(this: OrdersService, ctx: Context): SagaPorts {
			return {
				load: orderId => this.load(orderId),
				writeMove: (order, change) => this.writeMove(order, change),
				markCancelling: async (orderId, reason) => {
					await this.adapter.updateMany({ _id: orderId, status: "PENDING" }, { $set: { cancelling: reason } });
				},
				withdrawCancelRequest: async orderId => {
					await this.adapter.updateMany({ _id: orderId, status: "CONFIRMED" }, { $unset: { cancelRequested: true } });
				},
				reserve: (orderId, items) => ctx.call("inventory.reserve", { orderId, items }),
				commit: orderId => ctx.call("inventory.commit", { orderId }),
				release: orderId => ctx.call("inventory.release", { orderId }),
				restock: orderId => ctx.call("inventory.restock", { orderId }),
				charge: request => ctx.call<Payment, ChargeRequest>("payments.charge", request),
				refund: orderId => ctx.call<Payment, object>("payments.refund", { orderId }),
				paymentOf: orderId => ctx.call<Payment, object>("payments.get", { orderId }),
				cancelShipment: (orderId, userId) => ctx.call("shipping.cancel", { orderId, userId }),
				pause: ms => new Promise(resolve => setTimeout(resolve, ms)),
			};
		},

		/** One conditional update: the status moves once, with its history entry and its fact. */
		async writeMove(this: OrdersService, order: OrderDoc, { from, to, guard, set, fact: announced }: StatusChange): Promise<OrderDoc | null> {
			const now = new Date().toISOString();
			const update = { $set: { status: to, updatedAt: now, ...set }, $push: { statusHistory: { status: to, at: now } } };
			const moved = (await this.adapter.findOneAndUpdate(
				{ _id: order._id, status: { $in: from }, ...guard },
				announced ? withFacts(update, fact(announced.channel, announced.payload)) : update,
			)) as (OrderDoc & { outbox?: OutboxFact[] }) | null;
			if (!moved) return null;
			countEvent(this.broker, ORDERS, { status: to });
			if (announced) await this.publishFacts(moved._id, moved.outbox);
			return moved;
		},

		/** PENDING orders whose lease lapsed (their node died), and cancellations cut short. */
		async recoverPending(this: OrdersService): Promise<void> {
			const now = new Date();
			const stale = (await this.adapter.find({ query: { status: "PENDING", "lease.until": { $lt: now.toISOString() } }, limit: 20 })) as OrderDoc[];
			const cutShort = (await this.adapter.find({
				query: { status: "CONFIRMED", cancelRequested: true, updatedAt: { $lt: new Date(now.getTime() - this.leaseMs).toISOString() } },
				limit: 20,
			})) as OrderDoc[];
			for (const order of [...stale, ...cutShort]) {
				const lease = { owner: this.broker.nodeID, until: new Date(now.getTime() + this.leaseMs).toISOString() };
				// Take the lease only if nobody else took it since we read it.
				const taken = await this.adapter.updateMany(
					{ _id: order._id, "lease.until": order.lease.until, "lease.owner": order.lease.owner },
					{ $set: { lease, updatedAt: now.toISOString() } },
				);
				if (taken !== 1) continue;
				const ctx = this.broker.ContextFactory.create(this.broker, null as never, {}, { requestID: `recovery-${order._id}` }) as Context;
				try {
					await resumeOrder(this.sagaPorts(ctx), order);
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
		this.stopRecovery = runEvery(
			RECOVERY_SWEEP_MS,
			() => this.recoverPending(),
			err => this.logger.warn(`Recovery sweep failed: ${err.message}`),
		);
	},

	stopped(this: OrdersService) {
		this.stopRecovery?.();
	},
};

export default OrdersService;
