// services/shipping/shipping.service.ts — quotes, one shipment per confirmed order, and
// its progress from the carrier's signed webhook or an admin.
import { Errors, type Context } from "moleculer";
import { DbMixin, exportAction, type DbServiceSchema } from "../../mixins/db.mixin";
import { Authorized } from "../../mixins/auth.mixin";
import { fact, Outbox, outboxFields, withFacts, type OutboxFact, type OutboxService } from "../../mixins/outbox.mixin";
import { readEnv, shippingWebhookSecret } from "../../lib/platform/env";
import { insertIfAbsent } from "../../lib/platform/db-errors";
import { CARRIER, nextStatus, predecessors, quote, signatureValid, trackingNumber } from "./shipment";
import {
	Channels,
	type LineItem,
	type OrderCancelled,
	type OrderConfirmed,
	type Shipment,
	type ShipmentFact,
	type ShipmentStatus,
} from "../../lib/contract/contract";
import { idRule } from "../../lib/rules/id-rule";

interface ShipmentDoc extends Shipment {
	_id: string;
	email: string;
	events: Record<string, boolean>;
}

interface ShippingService extends OutboxService {
	webhookSecret: string;
	/** True when the shipment moved (and its fact went out). */
	moveStatus(doc: ShipmentDoc, status: ShipmentStatus, eventId?: string): Promise<boolean>;
}

const FACT_OF: Partial<Record<ShipmentStatus, string>> = {
	SHIPPED: Channels.SHIPMENT_SHIPPED,
	DELIVERED: Channels.SHIPMENT_DELIVERED,
	CANCELLED: Channels.SHIPMENT_CANCELLED,
};

function toShipment(doc: ShipmentDoc): Shipment {
	const { orderId, userId, carrier, trackingNumber: tracking, status } = doc;
	return { orderId, userId, carrier, trackingNumber: tracking, status };
}

function shipmentFact(channel: string, doc: ShipmentDoc, status: ShipmentStatus) {
	return fact(channel, {
		orderId: doc.orderId,
		userId: doc.userId,
		email: doc.email,
		carrier: doc.carrier,
		trackingNumber: doc.trackingNumber,
		status,
	} satisfies Omit<ShipmentFact, "factId">);
}

const ShippingService: DbServiceSchema<ShippingService> = {
	name: "shipping",
	mixins: [
		DbMixin({
			fields: {
				orderId: { type: String, required: true },
				userId: String,
				email: String,
				carrier: String,
				trackingNumber: { type: String, required: true },
				status: String,
				events: { type: Object, default: {} },
				...outboxFields,
			},
			unique: ["trackingNumber"],
		}),
		Authorized,
		Outbox,
	],

	actions: {
		webhook: {
			access: "public",
			params: {
				eventId: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
				trackingNumber: { type: "string", min: 1, max: 64 },
				status: { type: "enum", values: ["SHIPPED", "DELIVERED"] },
				$$strict: "remove",
			},
			async handler(
				this: ShippingService,
				ctx: Context<{ eventId: string; trackingNumber: string; status: ShipmentStatus }, { rawBody?: string; signature?: string }>,
			): Promise<void> {
				if (!signatureValid(ctx.meta.rawBody, ctx.meta.signature, this.webhookSecret)) {
					const err = new Errors.MoleculerClientError("Missing or wrong signature", 401, "INVALID_SIGNATURE");
					err.name = "UnAuthorizedError";
					throw err;
				}
				const [doc] = (await this.adapter.find({ query: { trackingNumber: ctx.params.trackingNumber }, limit: 1 })) as ShipmentDoc[];
				if (!doc) throw new Errors.MoleculerClientError("Unknown tracking number", 404, "NOT_FOUND");
				// A replayed or out-of-date event changes nothing.
				await this.moveStatus(doc, ctx.params.status, ctx.params.eventId);
			},
		},

		advance: {
			access: "admin",
			params: { orderId: idRule },
			async handler(this: ShippingService, ctx: Context<{ orderId: string }>): Promise<Shipment> {
				const doc = (await this.adapter.findById(ctx.params.orderId)) as ShipmentDoc | null;
				if (!doc) throw new Errors.MoleculerClientError("No shipment for this order", 404, "NOT_FOUND");
				const next = nextStatus(doc.status);
				if (!next || !(await this.moveStatus(doc, next))) {
					throw new Errors.MoleculerClientError(`A ${doc.status} shipment cannot advance`, 409, "INVALID_TRANSITION");
				}
				return toShipment((await this.adapter.findById(doc._id)) as ShipmentDoc);
			},
		},

		// --- internal ---

		/**
		 * Stops the order's shipment before it leaves: CREATED -> CANCELLED, or,
		 * when order.confirmed has not arrived yet, a CANCELLED record that the
		 * late fact cannot replace. 409 once the parcel has left.
		 */
		cancel: {
			visibility: "public",
			params: { orderId: idRule, userId: idRule },
			async handler(this: ShippingService, ctx: Context<{ orderId: string; userId: string }>): Promise<void> {
				const { orderId, userId } = ctx.params;
				const now = new Date().toISOString();
				const placeholder = {
					_id: orderId,
					orderId,
					userId,
					email: "",
					carrier: CARRIER,
					trackingNumber: trackingNumber(),
					status: "CANCELLED",
					events: {},
					outbox: [],
					outboxPending: false,
					createdAt: now,
					updatedAt: now,
				};
				if (await insertIfAbsent(this.adapter.insert(placeholder))) return;
				const doc = (await this.adapter.findById(orderId)) as ShipmentDoc;
				if (doc.status === "CANCELLED" || (await this.moveStatus(doc, "CANCELLED"))) return;
				throw new Errors.MoleculerClientError("A shipped order cannot be cancelled", 409, "ORDER_SHIPPED");
			},
		},

		quote: {
			visibility: "public",
			params: { items: { type: "array", items: { type: "object", props: { quantity: "number", unitPrice: "number" } } } },
			handler(ctx: Context<{ items: LineItem[] }>): { cost: number } {
				return { cost: quote(ctx.params.items) };
			},
		},

		all: exportAction({}, toShipment),
	},

	channels: {
		[Channels.ORDER_CONFIRMED]: {
			group: "shipping",
			async handler(this: ShippingService, order: OrderConfirmed) {
				const now = new Date().toISOString();
				const doc: ShipmentDoc = {
					_id: order.orderId,
					orderId: order.orderId,
					userId: order.userId,
					email: order.email,
					carrier: CARRIER,
					trackingNumber: trackingNumber(),
					status: "CREATED",
					events: {},
				};
				const facts = [shipmentFact(Channels.SHIPMENT_CREATED, doc, "CREATED")];
				// The order id is the document id: a redelivered fact cannot make a second shipment.
				if (await insertIfAbsent(this.adapter.insert({ ...doc, outbox: facts, outboxPending: true, createdAt: now, updatedAt: now })))
					await this.publishFacts(order.orderId, facts);
				else await this.publishOutbox(order.orderId);
			},
		},

		[Channels.ORDER_CANCELLED]: {
			group: "shipping",
			async handler(this: ShippingService, order: OrderCancelled) {
				const doc = (await this.adapter.findById(order.orderId)) as ShipmentDoc | null;
				if (doc) await this.moveStatus(doc, "CANCELLED");
			},
		},
	},

	methods: {
		/** One conditional update: the status moves forward once, and each carrier event counts once. */
		async moveStatus(this: ShippingService, doc: ShipmentDoc, status: ShipmentStatus, eventId?: string): Promise<boolean> {
			const from = status === "CANCELLED" ? ["CREATED"] : predecessors(status);
			const condition = { _id: doc._id, status: { $in: from }, ...(eventId && { [`events.${eventId}`]: { $exists: false } }) };
			const set = { status, updatedAt: new Date().toISOString(), ...(eventId && { [`events.${eventId}`]: true }) };
			const channel = FACT_OF[status]!;
			const moved = (await this.adapter.findOneAndUpdate(condition, withFacts({ $set: set }, shipmentFact(channel, doc, status)))) as {
				outbox?: OutboxFact[];
			} | null;
			if (moved) await this.publishFacts(doc._id, moved.outbox);
			return moved != null;
		},
	},

	created(this: ShippingService) {
		this.webhookSecret = shippingWebhookSecret(readEnv());
	},
};

export default ShippingService;
