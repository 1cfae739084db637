// services/inventory/inventory.service.ts — stock per product and reservations per
// order. The rules (atomic conditional updates) live in services/inventory/stock.ts.
import mongoose from "mongoose";
import { Errors, type Context } from "moleculer";
import { DbMixin, exportAction, type DbService, type DbServiceSchema } from "../../mixins/db.mixin";
import { Authorized } from "../../mixins/auth.mixin";
import { readEnv } from "../../lib/platform/env";
import { runEvery } from "../../lib/platform/periodic";
import { countEvent, STOCK_RESERVATIONS } from "../../lib/platform/business-metrics";
import * as stock from "./stock";
import type { Availability, Page, Product } from "../../lib/contract/contract";
import { idRule } from "../../lib/rules/id-rule";

const RESERVATION_TTL_MS = 15 * 60_000;
const EXPIRY_SWEEP_MS = 5000;
const DEMO_UNITS = 100;

const lineRule = {
	type: "object",
	strict: "remove",
	props: { productId: idRule, quantity: { type: "number", integer: true, min: 1, max: 1000 } },
} as const;

interface InventoryService extends DbService {
	stopExpiry?: () => void;
	/** Read by the readiness check: false while demo stock is being seeded. */
	startupDataInPlace: boolean;
	seedDemoStock(): Promise<void>;
	releaseExpired(): Promise<number>;
}

/** An internal action that moves an order's reservation one step and counts the outcome. */
function reservationStep(step: (store: stock.StockStore, orderId: string) => Promise<void>, outcome: string) {
	return {
		visibility: "public" as const,
		params: { orderId: idRule },
		async handler(this: InventoryService, ctx: Context<{ orderId: string }>): Promise<void> {
			await step(this.adapter, ctx.params.orderId);
			countEvent(this.broker, STOCK_RESERVATIONS, { outcome });
		},
	};
}

const InventoryService: DbServiceSchema<InventoryService> = {
	name: "inventory",
	mixins: [
		DbMixin({
			fields: {
				kind: { type: String, required: true, index: true },
				productId: String,
				available: Number,
				reserved: Number,
				sold: Number,
				received: Number,
				holds: { type: mongoose.Schema.Types.Mixed, default: {} },
				returned: { type: mongoose.Schema.Types.Mixed, default: {} },
				orderId: String,
				items: mongoose.Schema.Types.Mixed,
				// Indexed for the expiry sweep: few reservations are ever in flight.
				state: { type: String, index: true },
				expiresAt: String,
			},
		}),
		Authorized,
	],

	actions: {
		availability: {
			access: "public",
			params: { productId: idRule },
			async handler(this: InventoryService, ctx: Context<{ productId: string }>): Promise<Availability> {
				const doc = (await this.adapter.findById(stock.stockId(ctx.params.productId))) as stock.StockDoc | null;
				if (!doc) await ctx.call("products.get", { id: ctx.params.productId }); // 404 for a product the catalog does not have
				const { productId, available, reserved } = stock.toStockLevel(doc, ctx.params.productId);
				return { productId, available, reserved };
			},
		},

		adjust: {
			access: "admin",
			params: {
				productId: idRule,
				delta: { type: "number", integer: true, min: -1_000_000, max: 1_000_000, optional: true },
				available: { type: "number", integer: true, min: 0, max: 1_000_000, optional: true },
				$$strict: "remove",
			},
			async handler(this: InventoryService, ctx: Context<{ productId: string; delta?: number; available?: number }>): Promise<Availability> {
				const { productId, delta, available } = ctx.params;
				if ((delta == null) === (available == null)) {
					throw new Errors.ValidationError("Give either delta or available", "VALIDATION_ERROR", [
						{ type: "required", field: "delta", message: "Give either 'delta' or 'available'." },
					]);
				}
				await ctx.call("products.get", { id: productId }); // 404 for a product the catalog does not have
				const level =
					available != null ? await stock.setAvailable(this.adapter, productId, available) : await stock.adjustStock(this.adapter, productId, delta!);
				return { productId, available: level.available, reserved: level.reserved };
			},
		},

		// --- internal: the checkout saga and the consistency check ---

		reserve: {
			visibility: "public",
			params: { orderId: idRule, items: { type: "array", items: lineRule, min: 1, max: 100 } },
			async handler(
				this: InventoryService,
				ctx: Context<{ orderId: string; items: { productId: string; quantity: number }[] }>,
			): Promise<{ orderId: string; state: string }> {
				try {
					const reservation = await stock.reserve(this.adapter, ctx.params.orderId, ctx.params.items, RESERVATION_TTL_MS);
					countEvent(this.broker, STOCK_RESERVATIONS, { outcome: "reserved" });
					return { orderId: reservation.orderId, state: reservation.state };
				} catch (err) {
					if ((err as { code?: number }).code === 409) countEvent(this.broker, STOCK_RESERVATIONS, { outcome: "rejected" });
					throw err;
				}
			},
		},

		commit: reservationStep(stock.commit, "committed"),
		release: reservationStep(stock.release, "released"),
		restock: reservationStep(stock.restock, "restocked"),

		all: exportAction({ kind: "stock" }, (doc: stock.StockDoc) => stock.toStockLevel(doc, doc.productId)),
	},

	methods: {
		async releaseExpired(this: InventoryService): Promise<number> {
			const released = await stock.releaseExpired(this.adapter);
			countEvent(this.broker, STOCK_RESERVATIONS, { outcome: "expired" }, released);
			return released;
		},

		/** Development: every catalog product gets demo stock once; tried until it succeeds. */
		async seedDemoStock(this: InventoryService): Promise<void> {
			while (!this.startupDataInPlace && !this.broker.stopping) {
				try {
					await this.waitForServices(["products"], 30_000);
					for (let page = 1; ; page++) {
						const result = await this.broker.call<Page<Product>, object>("products.list", { page, pageSize: 100 });
						for (const product of result.rows) await stock.seedStock(this.adapter, product.id, DEMO_UNITS);
						if (page >= result.totalPages) break;
					}
					this.startupDataInPlace = true;
				} catch (err) {
					this.logger.warn(`Demo stock not seeded yet: ${(err as Error).message}`);
					await new Promise(resolve => setTimeout(resolve, 1000));
				}
			}
		},
	},

	async started(this: InventoryService) {
		this.startupDataInPlace = readEnv().nodeEnv === "production";
		// In the background: the catalog may start after this node. Until it is done the node is not ready.
		if (!this.startupDataInPlace) void this.seedDemoStock();
		this.stopExpiry = runEvery(
			EXPIRY_SWEEP_MS,
			() => this.releaseExpired(),
			err => this.logger.warn(`Reservation expiry failed: ${err.message}`),
		);
	},

	stopped(this: InventoryService) {
		this.stopExpiry?.();
	},
};

export default InventoryService;
