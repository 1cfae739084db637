// services/carts/carts.service.ts — one cart per user (the document id is the user
// id). Names and prices come from the catalog when a line is added.
import { Errors, type Context } from "moleculer";
import { DbMixin, type DbService, type DbServiceSchema } from "../../mixins/db.mixin";
import { Authorized, currentUser, type ClientMeta } from "../../mixins/auth.mixin";
import { insertIfAbsent } from "../../lib/platform/db-errors";
import { addLine, quantityRule, removeLine, setQuantity, totalOf } from "./cart";
import type { Cart, LineItem, Product } from "../../lib/contract/contract";
import { idRule } from "../../lib/rules/id-rule";

interface CartDoc {
	_id: string;
	items: LineItem[];
	currency?: string;
	version: number;
}

interface CartsService extends DbService {
	/** The user's cart and the version of its document (0: none yet). */
	cartOf(userId: string): Promise<{ cart: Cart; version: number }>;
	/** `currency` is the added product's: it becomes the cart's when the cart was empty. */
	changeCart(userId: string, change: (items: LineItem[], currency?: string) => LineItem[], currency?: string): Promise<Cart>;
}

type CartCtx<P = unknown> = Context<P, ClientMeta>;

const CartsService: DbServiceSchema<CartsService> = {
	name: "carts",
	mixins: [DbMixin({ fields: { items: { type: Array, default: [] }, currency: String, version: { type: Number, default: 0 } } }), Authorized],

	actions: {
		get: {
			access: "user",
			async handler(this: CartsService, ctx: CartCtx): Promise<Cart> {
				return (await this.cartOf(currentUser(ctx).id)).cart;
			},
		},

		addItem: {
			access: "user",
			params: { productId: idRule, quantity: quantityRule, $$strict: "remove" },
			async handler(this: CartsService, ctx: CartCtx<{ productId: string; quantity: number }>): Promise<Cart> {
				const product = await ctx.call<Product, object>("products.get", { id: ctx.params.productId });
				return this.changeCart(currentUser(ctx).id, (items, currency) => addLine(items, currency, product, ctx.params.quantity), product.currency);
			},
		},

		updateItem: {
			access: "user",
			params: { productId: idRule, quantity: quantityRule, $$strict: "remove" },
			handler(this: CartsService, ctx: CartCtx<{ productId: string; quantity: number }>): Promise<Cart> {
				return this.changeCart(currentUser(ctx).id, items => setQuantity(items, ctx.params.productId, ctx.params.quantity));
			},
		},

		removeItem: {
			access: "user",
			params: { productId: idRule },
			handler(this: CartsService, ctx: CartCtx<{ productId: string }>): Promise<Cart> {
				return this.changeCart(currentUser(ctx).id, items => removeLine(items, ctx.params.productId));
			},
		},

		clear: {
			access: "user",
			async handler(this: CartsService, ctx: CartCtx): Promise<void> {
				await this.changeCart(currentUser(ctx).id, () => []);
			},
		},

		// --- internal: checkout reads a cart and empties it once the order is confirmed ---

		/** The cart and its version, which clearOfUser takes back. */
		ofUser: {
			visibility: "public",
			params: { userId: idRule },
			async handler(this: CartsService, ctx: Context<{ userId: string }>): Promise<Cart & { version: number }> {
				const { cart, version } = await this.cartOf(ctx.params.userId);
				return { ...cart, version };
			},
		},

		/** Empties the cart: in one write while it is still at `version` (the cart the order was priced from), else read first. */
		clearOfUser: {
			visibility: "public",
			params: { userId: idRule, version: { type: "number", integer: true, min: 0, optional: true } },
			async handler(this: CartsService, ctx: Context<{ userId: string; version?: number }>): Promise<void> {
				const { userId, version } = ctx.params;
				const cleared = { $set: { items: [], updatedAt: new Date().toISOString() }, $unset: { currency: true }, $inc: { version: 1 } };
				if (version != null && (await this.adapter.updateMany({ _id: userId, version }, cleared)) === 1) return;
				await this.changeCart(userId, () => []);
			},
		},
	},

	methods: {
		async cartOf(this: CartsService, userId: string): Promise<{ cart: Cart; version: number }> {
			const doc = (await this.adapter.findById(userId)) as CartDoc | null;
			return { cart: totalOf(doc?.items ?? [], doc?.currency), version: doc?.version ?? 0 };
		},

		/** Read, change, write back only if nobody wrote in between (optimistic concurrency). */
		async changeCart(this: CartsService, userId: string, change, addedCurrency?: string): Promise<Cart> {
			for (let attempt = 0; attempt < 5; attempt++) {
				const doc = (await this.adapter.findById(userId)) as CartDoc | null;
				const before = doc?.items ?? [];
				const items = change(before, before.length > 0 ? doc?.currency : undefined);
				const currency = items.length === 0 ? undefined : before.length > 0 ? doc?.currency : addedCurrency;
				const now = new Date().toISOString();
				if (!doc) {
					if (await insertIfAbsent(this.adapter.insert({ _id: userId, items, currency, version: 1, createdAt: now, updatedAt: now })))
						return totalOf(items, currency);
					continue; // created concurrently: read it and try again
				}
				const written = await this.adapter.updateMany(
					{ _id: userId, version: doc.version },
					{ $set: { items, currency, updatedAt: now }, $inc: { version: 1 } },
				);
				if (written === 1) return totalOf(items, currency);
			}
			throw new Errors.MoleculerRetryableError("The cart changed concurrently; try again", 409, "CART_BUSY");
		},
	},
};

export default CartsService;
