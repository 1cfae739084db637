// services/products/products.service.ts — the catalog: browse and read for everyone,
// create/update/remove for admins.
import { Errors, type Context } from "moleculer";
import { DbMixin, type DbService, type DbServiceSchema } from "../../mixins/db.mixin";
import { Authorized } from "../../mixins/auth.mixin";
import { catalogQuery, productFields, productQueryParams } from "./catalog";
import { demoCatalog } from "./demo-catalog";
import { SERVER_SELECTION_TIMEOUT_MS } from "../../lib/platform/service-mongo-adapter";
import type { NewProduct, Page, Product, ProductChanges, ProductQuery, Recommendations } from "../../lib/contract/contract";
import { idRule } from "../../lib/rules/id-rule";

const optional = Object.fromEntries(
	Object.entries(productFields).map(([name, rule]) => {
		// eslint-disable-next-line @typescript-eslint/no-unused-vars
		const { default: _noDefaultOnUpdate, ...rest } = rule as Record<string, unknown>;
		return [name, { ...rest, optional: true }];
	}),
);

// A create is not idempotent: never re-run it on a timeout.
const noRetry = { enabled: false };

// Catalog reads answer in milliseconds. Waiting the default 10 s on a replica
// that has just died (until heartbeats drop it) would stall the shop's busiest
// pages; the read is retried on another replica sooner. Not before the
// database has had its chance to answer, though: a dead database should be a
// clear 503 DATABASE_UNAVAILABLE, not a timeout.
const READ_TIMEOUT_MS = SERVER_SELECTION_TIMEOUT_MS + 2000;

const ProductsService: DbServiceSchema = {
	name: "products",
	mixins: [
		DbMixin({
			fields: {
				sku: { type: String, required: true },
				name: { type: String, required: true },
				description: String,
				price: { type: Number, required: true },
				currency: { type: String, required: true },
				category: { type: String, required: true, index: true },
			},
			unique: ["sku"],
			seed: demoCatalog,
		}),
		Authorized,
	],

	settings: {
		fields: ["id", "sku", "name", "description", "price", "currency", "category", "createdAt", "updatedAt"],
	},

	actions: {
		list: {
			access: "public",
			timeout: READ_TIMEOUT_MS,
			params: productQueryParams,
			cache: { keys: ["q", "category", "minPrice", "maxPrice", "sort", "page", "pageSize"] },
			handler(this: DbService, ctx: Context<Required<Pick<ProductQuery, "page" | "pageSize">> & ProductQuery>): Promise<Page<Product>> {
				const { query, sort } = catalogQuery(ctx.params);
				return this.findPage(ctx, { query, sort, page: ctx.params.page, pageSize: ctx.params.pageSize });
			},
		},

		get: {
			access: "public",
			timeout: READ_TIMEOUT_MS,
			params: { id: idRule },
			cache: { keys: ["id"] },
			handler(this: DbService, ctx: Context<{ id: string }>): Promise<Product> {
				return this.findEntity(ctx, ctx.params.id);
			},
		},

		// Served by the Python `recommendations` service; without it, an empty
		// list is a better answer than an error (the route is a nice-to-have).
		recommendations: {
			access: "public",
			params: { id: idRule },
			async handler(this: DbService, ctx: Context<{ id: string; limit?: unknown }>): Promise<Recommendations> {
				const { id, limit } = ctx.params;
				await this.findEntity(ctx, id); // 404 for a product the catalog does not have
				try {
					// A short timeout and one retry: a dead node's share goes to a live one.
					return await ctx.call<Recommendations, object>(
						"recommendations.forProduct",
						{ productId: id, ...(limit !== undefined && { limit }) },
						{ timeout: 2000, retries: 1 },
					);
				} catch (err) {
					const { code, type } = err as { code?: number; type?: string };
					const unreachable = type === "SERVICE_NOT_FOUND" || type === "SERVICE_NOT_AVAILABLE" || !code || code >= 500;
					if (!unreachable) throw err; // a bad request stays a bad request
					return { productId: id, items: [] };
				}
			},
		},

		create: {
			access: "admin",
			params: { ...productFields, $$strict: "remove" },
			retryPolicy: noRetry,
			handler(this: DbService, ctx: Context<NewProduct>): Promise<Product> {
				return this.createEntity(ctx, { ...ctx.params });
			},
		},

		update: {
			access: "admin",
			params: { id: idRule, ...optional, $$strict: "remove" },
			handler(this: DbService, ctx: Context<ProductChanges & { id: string }>): Promise<Product> {
				const { id, ...changes } = ctx.params;
				if (Object.keys(changes).length === 0) {
					throw new Errors.ValidationError("Nothing to update", "VALIDATION_ERROR", [
						{ type: "required", field: "name", message: "Give at least one of sku, name, description, price, currency, category." },
					]);
				}
				return this.updateEntity(ctx, id, changes);
			},
		},

		remove: {
			access: "admin",
			params: { id: idRule },
			handler(this: DbService, ctx: Context<{ id: string }>): Promise<Product> {
				return this.removeEntity(ctx, ctx.params.id);
			},
		},
	},
};

export default ProductsService;
