// Every route of the REST contract (docs/architecture.md, "The REST
// contract"): the gateway's aliases and the OpenAPI document are both made
// from this table. Parameters and who may call come from the action itself;
// this says what HTTP adds.
import type { ContractSchemaName } from "./contract-schemas";

export interface ApiRoute {
	action: string;
	summary: string;
	/** Statuses and what each returns: a JSON schema, or null for no body (or a `contentType` one). */
	responses: Partial<Record<number, ContractSchemaName | null>>;
	/** A body that is not JSON (the docs page). */
	contentType?: string;
	/** Client errors particular to the route; the common ones are added for every route. */
	errors?: number[];
	/** Request headers the action reads: the gateway hands each one on as `ctx.meta[meta]`. */
	headers?: Record<string, { required: boolean; description: string; meta: string }>;
	/** The body's exact bytes are handed on as `ctx.meta.rawBody` too (a signed body). */
	rawBody?: boolean;
	/** Where a 201's new resource lives (the Location header). */
	location?: (data: { id?: string }) => string;
	/** OpenAPI links: the actions a success leads to, with runtime expressions for their params. */
	links?: Record<string, Record<string, string>>;
	/**
	 * A public read whose answer is the same for every caller: the gateway
	 * keeps it as sent, with an ETag, until the service's data changes
	 * (services/api/page-cache.ts), and answers If-None-Match with 304.
	 */
	pageCache?: boolean;
}

/** One route group (a moleculer-web route): its path prefix and aliases. */
export interface RouteGroup {
	path: string;
	routes: Record<string, ApiRoute>;
	/** Routes that take a bearer token and apply the rate limit. */
	api: boolean;
}

const newId = "$response.body#/id";
const firstRowId = "$response.body#/rows/0/id";

const notFound = [404];

/** `METHOD path` under /api, as moleculer-web aliases spell them. */
export const API_ROUTES: Record<string, ApiRoute> = {
	"POST auth/register": {
		action: "auth.register",
		summary: "Create a customer account and sign in",
		responses: { 201: "AuthResult" },
		errors: [409],
		location: () => "/api/users/me",
	},
	"POST auth/login": { action: "auth.login", summary: "Sign in with email and password", responses: { 200: "AuthResult" } },
	"POST auth/refresh": { action: "auth.refresh", summary: "Trade a refresh token for a new pair (the old one is revoked)", responses: { 200: "AuthResult" } },
	"POST auth/logout": { action: "auth.logout", summary: "Revoke a refresh token", responses: { 204: null } },
	"GET users/me": { action: "users.me", summary: "The signed-in user", responses: { 200: "User" }, errors: notFound },
	"PATCH users/me": { action: "users.updateMe", summary: "Change the signed-in user's name", responses: { 200: "User" }, errors: notFound },
	"GET users": { action: "users.list", summary: "All users (admin)", responses: { 200: "UserPage" } },
	"GET products": {
		action: "products.list",
		summary: "Browse the catalog",
		responses: { 200: "ProductPage" },
		pageCache: true,
		links: { "products.get": { id: firstRowId }, "products.recommendations": { id: firstRowId }, "inventory.availability": { productId: firstRowId } },
	},
	"GET products/:id": { action: "products.get", summary: "One product", responses: { 200: "Product" }, errors: notFound, pageCache: true },
	"GET products/:id/recommendations": {
		action: "products.recommendations",
		summary: "Products bought with this one (empty while the recommender is away)",
		responses: { 200: "Recommendations" },
		errors: notFound,
	},
	"POST products": {
		action: "products.create",
		summary: "Add a product (admin)",
		responses: { 201: "Product" },
		errors: [409],
		location: product => `/api/products/${product.id}`,
		links: {
			"products.get": { id: newId },
			"products.update": { id: newId },
			"products.remove": { id: newId },
			"inventory.availability": { productId: newId },
			"inventory.adjust": { productId: newId },
		},
	},
	"PATCH products/:id": { action: "products.update", summary: "Change a product (admin)", responses: { 200: "Product" }, errors: [404, 409] },
	"DELETE products/:id": { action: "products.remove", summary: "Remove a product (admin)", responses: { 204: null }, errors: notFound },
	"GET inventory/:productId": {
		action: "inventory.availability",
		summary: "Units available and reserved",
		responses: { 200: "Availability" },
		errors: notFound,
	},
	"PATCH inventory/:productId": {
		action: "inventory.adjust",
		summary: "Move stock by `delta` or set `available` (admin)",
		responses: { 200: "Availability" },
		errors: [404, 409],
	},
	"GET cart": { action: "carts.get", summary: "The signed-in user's cart", responses: { 200: "Cart" } },
	"POST cart/items": {
		action: "carts.addItem",
		summary: "Add units of a product to the cart",
		responses: { 200: "Cart" },
		errors: notFound,
		links: { "carts.updateItem": { productId: "$request.body#/productId" }, "carts.removeItem": { productId: "$request.body#/productId" } },
	},
	"PATCH cart/items/:productId": { action: "carts.updateItem", summary: "Set a cart line's quantity", responses: { 200: "Cart" }, errors: notFound },
	"DELETE cart/items/:productId": { action: "carts.removeItem", summary: "Remove a cart line", responses: { 200: "Cart" }, errors: notFound },
	"DELETE cart": { action: "carts.clear", summary: "Empty the cart", responses: { 204: null } },
	"POST orders": {
		action: "orders.checkout",
		summary: "Check out the cart: reserve stock, charge the card, confirm",
		responses: { 201: "Order", 202: "Order" },
		errors: [409],
		headers: {
			"Idempotency-Key": {
				required: true,
				meta: "idempotencyKey",
				description: "Retrying with the same key and body returns the same order instead of a second one (kept 24 h)",
			},
		},
		location: order => `/api/orders/${order.id}`,
		links: { "orders.get": { id: newId }, "orders.cancel": { id: newId }, "shipping.advance": { orderId: newId } },
	},
	"GET orders": {
		action: "orders.list",
		summary: "Your orders (all orders for an admin)",
		responses: { 200: "OrderPage" },
		links: { "orders.get": { id: firstRowId }, "orders.cancel": { id: firstRowId } },
	},
	"GET orders/:id": { action: "orders.get", summary: "One order (owner or admin)", responses: { 200: "Order" }, errors: notFound },
	"POST orders/:id/cancel": {
		action: "orders.cancel",
		summary: "Cancel an order not yet shipped: refund and release its stock",
		responses: { 200: "Order" },
		errors: [404, 409],
	},
	"GET notifications": { action: "notifications.list", summary: "Messages sent to the signed-in user", responses: { 200: "NotificationPage" } },
	"POST shipping/webhook": {
		action: "shipping.webhook",
		summary: "Carrier status updates, signed with HMAC-SHA256",
		responses: { 204: null },
		errors: [404, 409],
		headers: { "X-Signature": { required: true, meta: "signature", description: "Hex HMAC-SHA256 of the raw body with the shared carrier secret" } },
		rawBody: true,
	},
	"POST shipments/:orderId/advance": {
		action: "shipping.advance",
		summary: "Move a shipment one step on, as the carrier would (admin)",
		responses: { 200: "Shipment" },
		errors: [404, 409],
	},
	"GET openapi.json": { action: "api.openapi", summary: "This document", responses: { 200: "OpenApiDocument" } },
};

/** Under /health: this node's own health, for load balancers and orchestrators. */
export const HEALTH_ROUTES: Record<string, ApiRoute> = {
	"GET live": { action: "api.live", summary: "The process is up (liveness)", responses: { 200: "Liveness" } },
	"GET ready": {
		action: "api.ready",
		summary: "This node can serve: transporter, cacher and database reachable (readiness)",
		responses: { 200: "HealthReport", 503: "HealthReport" },
	},
};

/** Under /docs: the interactive docs page and the files it loads. */
export const DOCS_ROUTES: Record<string, ApiRoute> = {
	"GET /": { action: "api.docs", summary: "Interactive API docs (Swagger UI)", responses: { 200: null }, contentType: "text/html" },
	"GET :file": { action: "api.docsFile", summary: "A script or stylesheet of the docs page", responses: { 200: null }, errors: [404], contentType: "text/*" },
};

/** Every route the gateway serves, by group. */
export const ROUTE_GROUPS: RouteGroup[] = [
	{ path: "/api", routes: API_ROUTES, api: true },
	{ path: "/health", routes: HEALTH_ROUTES, api: false },
	{ path: "/docs", routes: DOCS_ROUTES, api: false },
];

/** The HTTP status of a successful call: 202 while an order is still PENDING. */
export function successStatus(route: ApiRoute, data: { status?: string } | null | undefined): number {
	const { usual, pending } = successStatuses(route);
	return pending && data?.status === "PENDING" ? 202 : usual;
}

// Worked out once per route: this runs on every response.
const SUCCESS = new WeakMap<ApiRoute, { usual: number; pending: boolean }>();

function successStatuses(route: ApiRoute): { usual: number; pending: boolean } {
	let known = SUCCESS.get(route);
	if (!known) {
		const statuses = Object.keys(route.responses)
			.map(Number)
			.filter(status => status < 300);
		known = { usual: Math.min(...statuses), pending: statuses.includes(202) };
		SUCCESS.set(route, known);
	}
	return known;
}
