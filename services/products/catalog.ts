// Catalog rules without a broker: what a product looks like and how a
// client's browse request becomes a database query.
import { Errors } from "moleculer";
import { PRODUCT_SORTS, type ProductQuery } from "../../lib/contract/contract";
import { pageParams } from "../../lib/rules/paging";

/** A product's writable fields, as fastest-validator rules (string patterns travel in INFO packets). */
export const productFields = {
	sku: { type: "string", pattern: "^[A-Z0-9][A-Z0-9-]{2,31}$", messages: { stringPattern: "sku must be 3-32 upper-case letters, digits or dashes" } },
	name: { type: "string", trim: true, min: 1, max: 200 },
	description: { type: "string", trim: true, max: 4000, default: "" },
	price: { type: "number", integer: true, min: 0, max: 100_000_000 },
	currency: { type: "string", pattern: "^[A-Z]{3}$", default: "USD", messages: { stringPattern: "currency must be an ISO 4217 code such as USD" } },
	category: {
		type: "string",
		pattern: "^[a-z0-9][a-z0-9-]{0,39}$",
		messages: { stringPattern: "category must be a lower-case slug of at most 40 characters" },
	},
} as const;

/** Query-string rules for browsing: strings from the URL are converted, and bounded. */
export const productQueryParams = {
	q: { type: "string", trim: true, min: 1, max: 100, optional: true },
	category: { ...productFields.category, optional: true },
	minPrice: { type: "number", integer: true, min: 0, convert: true, optional: true },
	maxPrice: { type: "number", integer: true, min: 0, convert: true, optional: true },
	sort: { type: "enum", values: PRODUCT_SORTS, optional: true },
	...pageParams,
	$$strict: "remove",
} as const;

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The database filter and sort for a browse request. */
export function catalogQuery(params: ProductQuery): { query: Record<string, unknown>; sort: string[] } {
	if (params.minPrice != null && params.maxPrice != null && params.minPrice > params.maxPrice) {
		throw new Errors.ValidationError("minPrice must not be greater than maxPrice", "VALIDATION_ERROR", [
			{ type: "numberMax", field: "minPrice", message: "The 'minPrice' field must not be greater than 'maxPrice'.", actual: params.minPrice },
		]);
	}
	const query: Record<string, unknown> = {};
	if (params.category) query.category = params.category;
	if (params.minPrice != null || params.maxPrice != null) {
		query.price = {
			...(params.minPrice != null && { $gte: params.minPrice }),
			...(params.maxPrice != null && { $lte: params.maxPrice }),
		};
	}
	if (params.q) {
		// Escaped: the client's text is matched literally, never run as a pattern.
		const text = new RegExp(escapeRegExp(params.q), "i");
		query.$or = [{ name: text }, { description: text }, { sku: text }];
	}
	// The id breaks ties so pages never repeat or skip rows with equal keys.
	return { query, sort: [params.sort ?? "name", "_id"] };
}
