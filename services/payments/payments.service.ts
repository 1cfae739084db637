// services/payments/payments.service.ts — charges and refunds through the card
// provider, idempotent by orderId. A record keeps brand and last4, never the
// card number.
import { Errors, type Context } from "moleculer";
import { DbMixin, exportAction, type DbService, type DbServiceSchema } from "../../mixins/db.mixin";
import { insertIfAbsent } from "../../lib/platform/db-errors";
import { countEvent, PAYMENTS } from "../../lib/platform/business-metrics";
import { assertChargeable, cardRule, cardSummary } from "../../lib/rules/cards";
import { ProviderUnavailableError, SimulatedCardProvider, type CardProvider } from "./card-provider";
import type { Card, Cents, Payment, PaymentStatus } from "../../lib/contract/contract";
import { idRule } from "../../lib/rules/id-rule";

interface PaymentDoc extends Payment {
	_id: string;
	reference?: string;
	refundRequested: boolean;
}

interface PaymentsService extends DbService {
	provider: CardProvider;
	record(orderId: string): Promise<PaymentDoc | null>;
	/** The record as it became, or null when it was not in `from` (or did not meet `extra`). */
	transition(orderId: string, from: PaymentStatus[], set: Partial<PaymentDoc>, extra?: Record<string, unknown>): Promise<PaymentDoc | null>;
	refundCaptured(doc: PaymentDoc): Promise<void>;
}

function toPayment(doc: PaymentDoc): Payment {
	const { orderId, amount, currency, status, brand, last4, declineReason } = doc;
	return { orderId, amount, currency, status, brand, last4, ...(declineReason && { declineReason }) };
}

function providerUnavailable(): Errors.MoleculerRetryableError {
	return new Errors.MoleculerRetryableError("The card provider is temporarily unavailable", 503, "PAYMENT_PROVIDER_UNAVAILABLE");
}

const PaymentsService: DbServiceSchema<PaymentsService> = {
	name: "payments",
	mixins: [
		DbMixin({
			fields: {
				orderId: { type: String, required: true },
				amount: Number,
				currency: String,
				status: { type: String, required: true },
				brand: String,
				last4: String,
				reference: String,
				declineReason: String,
				refundRequested: { type: Boolean, default: false },
			},
		}),
	],

	actions: {
		// --- all internal: the orders saga is the only client ---

		charge: {
			visibility: "public",
			// The saga retries a transient failure itself; the broker must not add a second layer.
			retryPolicy: { enabled: false },
			// The provider is slow and rate limited: queue beyond 10 in flight, refuse beyond 100 waiting.
			bulkhead: { enabled: true, concurrency: 10, maxQueueSize: 100 },
			params: { orderId: idRule, amount: { type: "number", integer: true, min: 0 }, currency: { type: "string", length: 3 }, card: cardRule },
			async handler(this: PaymentsService, ctx: Context<{ orderId: string; amount: Cents; currency: string; card: Card }>): Promise<Payment> {
				const { orderId, amount, currency, card } = ctx.params;
				assertChargeable(card);
				const now = new Date().toISOString();
				const fresh: PaymentDoc = { _id: orderId, orderId, amount, currency, status: "PENDING", ...cardSummary(card), refundRequested: false };
				// Already there: an earlier attempt, or a refund that voided the order first.
				const existing = (await insertIfAbsent(this.adapter.insert({ ...fresh, createdAt: now, updatedAt: now })))
					? fresh
					: (await this.record(orderId))!;
				if (existing.status !== "PENDING" && existing.status !== "FAILED") return toPayment(existing);
				if (existing.declineReason === "voided") return toPayment(existing);

				let outcome;
				try {
					outcome = await this.provider.charge({ idempotencyKey: orderId, amount, currency, card });
				} catch (err) {
					if (!(err instanceof ProviderUnavailableError)) throw err;
					await this.transition(orderId, ["PENDING"], { status: "FAILED" });
					throw providerUnavailable();
				}
				if (outcome.status === "declined") {
					const declined = await this.transition(orderId, ["PENDING", "FAILED"], { status: "DECLINED", declineReason: outcome.reason });
					if (declined) return toPayment(declined);
				} else {
					const captured = await this.transition(
						orderId,
						["PENDING", "FAILED"],
						{ status: "CAPTURED", reference: outcome.reference },
						{ refundRequested: false },
					);
					if (captured) return toPayment(captured);
					// A refund was asked for while the provider was capturing: give the money back.
					const doc = (await this.record(orderId))!;
					if (doc.status !== "CAPTURED") await this.refundCaptured({ ...doc, reference: outcome.reference });
				}
				return toPayment((await this.record(orderId))!);
			},
		},

		/** Ensures no money stays captured for the order: refunds a capture, voids a charge not yet made. */
		refund: {
			visibility: "public",
			params: { orderId: idRule },
			async handler(this: PaymentsService, ctx: Context<{ orderId: string }>): Promise<Payment | null> {
				const { orderId } = ctx.params;
				const now = new Date().toISOString();
				// No charge yet: a tombstone makes any later charge attempt a no-op.
				await insertIfAbsent(
					this.adapter.insert({
						_id: orderId,
						orderId,
						amount: 0,
						currency: "USD",
						status: "FAILED",
						brand: "",
						last4: "",
						declineReason: "voided",
						refundRequested: true,
						createdAt: now,
						updatedAt: now,
					}),
				);
				const doc = (await this.record(orderId))!;
				if (doc.status === "CAPTURED") await this.refundCaptured(doc);
				else if (doc.status === "PENDING") await this.transition(orderId, ["PENDING"], { refundRequested: true });
				else if (doc.status === "FAILED") await this.transition(orderId, ["FAILED"], { declineReason: "voided" }); // no retry may capture now
				return toPayment((await this.record(orderId))!);
			},
		},

		get: {
			visibility: "public",
			params: { orderId: idRule },
			async handler(this: PaymentsService, ctx: Context<{ orderId: string }>): Promise<Payment> {
				const doc = await this.record(ctx.params.orderId);
				if (!doc) throw new Errors.MoleculerClientError("No payment for this order", 404, "NOT_FOUND", { orderId: ctx.params.orderId });
				return toPayment(doc);
			},
		},

		all: exportAction({}, toPayment),
	},

	methods: {
		record(this: PaymentsService, orderId: string): Promise<PaymentDoc | null> {
			return this.adapter.findById(orderId) as Promise<PaymentDoc | null>;
		},

		async transition(this: PaymentsService, orderId, from, set, extra = {}): Promise<PaymentDoc | null> {
			const moved = (await this.adapter.findOneAndUpdate(
				{ _id: orderId, status: { $in: from }, ...extra },
				{ $set: { ...set, updatedAt: new Date().toISOString() } },
			)) as PaymentDoc | null;
			if (moved && set.status) countEvent(this.broker, PAYMENTS, { outcome: set.status });
			return moved;
		},

		async refundCaptured(this: PaymentsService, doc: PaymentDoc): Promise<void> {
			await this.provider.refund({ idempotencyKey: `refund:${doc.orderId}`, reference: doc.reference ?? "", amount: doc.amount });
			await this.transition(doc.orderId, ["CAPTURED", "PENDING"], { status: "REFUNDED" });
		},
	},

	created(this: PaymentsService) {
		this.provider = new SimulatedCardProvider();
	},
};

export default PaymentsService;
