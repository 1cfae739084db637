// services/api.service.ts — the REST gateway (moleculer-web). Only the aliases
// listed here are reachable; every error leaves as DESIGN.md's JSON shape.
import type { IncomingMessage, ServerResponse } from "node:http";
import type Redis from "ioredis";
import ApiGateway from "moleculer-web";
import type { Context, Service, ServiceSchema } from "moleculer";
import { readEnv } from "../lib/env";
import { clientAddress } from "../lib/client-address";
import { requestId } from "../lib/request-id";
import { toErrorResponse } from "../lib/http-errors";
import { nodeReadiness } from "../lib/readiness";
import { redisRateLimitStore } from "../lib/rate-limit-store";
import { assertAccess, requiredAccess } from "../lib/access";
import { invalidToken } from "../lib/tokens";
import type { ClientMeta } from "../mixins/auth.mixin";
import type { Access, AuthUser } from "../lib/contract";
import { sideRedisClient } from "../lib/redis-client";

interface Gateway extends Service {
	rateLimitRedis?: Redis;
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
	if (res.headersSent) return;
	res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
	res.end(JSON.stringify(payload));
}

// moleculer-web's settings and routes are loosely typed; so are ours here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type GatewaySettings = Record<string, any>;
type GatewaySchema = ServiceSchema<GatewaySettings> & {
	// The typings lack moleculer's `merged` hook.
	merged(this: Gateway, schema: ServiceSchema<GatewaySettings>): void;
};

/** Statuses other than 200 for a successful call (DESIGN.md section 4). */
const SUCCESS_STATUS: Record<string, number | ((data: { status?: string }) => number)> = {
	"auth.register": 201,
	"auth.logout": 204,
	"products.create": 201,
	"products.remove": 204,
	"carts.clear": 204,
	"shipping.webhook": 204,
	// A checkout that could not finish yet answers 202 with the PENDING order.
	"orders.checkout": order => (order.status === "PENDING" ? 202 : 201),
};

interface RequestMeta extends ClientMeta {
	idempotencyKey?: string;
	rawBody?: string;
	signature?: string;
}

/** TRUSTED_PROXIES, read when the gateway is created. */
let trustedProxies: string[] = [];

function headerValue(req: IncomingMessage, name: string): string | undefined {
	const value = req.headers[name];
	return Array.isArray(value) ? value[0] : value;
}

/** Where a 201's new resource lives (the Location header). */
const CREATED_LOCATION: Record<string, (data: { id?: string }) => string> = {
	"auth.register": () => "/api/users/me",
	"products.create": product => `/api/products/${product.id}`,
	"orders.checkout": order => `/api/orders/${order.id}`,
};

const ApiService: GatewaySchema = {
	name: "api",
	mixins: [ApiGateway],

	settings: {
		ip: "0.0.0.0",
		// One line per request at info is too much at production rates.
		logRequest: "debug",
		logResponse: "debug",
		// Request and response bodies hold passwords and tokens: never logged.
		logRequestParams: null,
		logResponseData: null,

		// Accept the caller's X-Request-Id (if sane) or make one; moleculer-web
		// echoes ctx.requestID back and every downstream call carries it.
		rootCallOptions(options: { requestID?: string }, req: IncomingMessage) {
			options.requestID = requestId(req.headers["x-request-id"] ?? req.headers["x-correlation-id"]);
		},

		routes: [
			{
				path: "/health",
				mappingPolicy: "restrict",
				autoAliases: false,
				bodyParsers: false,
				aliases: {
					"GET live": "api.live",
					"GET ready": "api.ready",
				},
			},
			{
				path: "/api",
				mappingPolicy: "restrict",
				autoAliases: false,
				bodyParsers: { json: { strict: true }, urlencoded: false },
				authentication: true,
				authorization: true,
				aliases: {
					"POST auth/register": "auth.register",
					"POST auth/login": "auth.login",
					"POST auth/refresh": "auth.refresh",
					"POST auth/logout": "auth.logout",
					"GET users/me": "users.me",
					"PATCH users/me": "users.updateMe",
					"GET users": "users.list",
					"GET products": "products.list",
					"GET products/:id": "products.get",
					"GET products/:id/recommendations": "products.recommendations",
					"POST products": "products.create",
					"PATCH products/:id": "products.update",
					"DELETE products/:id": "products.remove",
					"GET inventory/:productId": "inventory.availability",
					"PATCH inventory/:productId": "inventory.adjust",
					"GET cart": "carts.get",
					"POST cart/items": "carts.addItem",
					"PATCH cart/items/:productId": "carts.updateItem",
					"DELETE cart/items/:productId": "carts.removeItem",
					"DELETE cart": "carts.clear",
					"POST orders": "orders.checkout",
					"GET orders": "orders.list",
					"GET orders/:id": "orders.get",
					"POST orders/:id/cancel": "orders.cancel",
					"GET notifications": "notifications.list",
					"POST shipping/webhook": "shipping.webhook",
					"POST shipments/:orderId/advance": "shipping.advance",
				},
				onBeforeCall(ctx: Context<unknown, RequestMeta>, _route: unknown, req: IncomingMessage & { $action?: { name: string }; rawBody?: Buffer }) {
					ctx.meta.clientIp = clientAddress(req, trustedProxies);
					const action = req.$action?.name;
					if (action === "orders.checkout") ctx.meta.idempotencyKey = headerValue(req, "idempotency-key");
					if (action === "shipping.webhook") {
						// The carrier signs the exact bytes it sent.
						ctx.meta.rawBody = req.rawBody?.toString("utf8");
						ctx.meta.signature = headerValue(req, "x-signature");
					}
				},
				onAfterCall(ctx: Context<unknown, { $location?: string }>, _route: unknown, req: IncomingMessage & { $action?: { name: string } }, res: ServerResponse, data: { id?: string; status?: string }) {
					const name = req.$action?.name ?? "";
					const rule = SUCCESS_STATUS[name];
					const status = typeof rule === "function" ? rule(data) : rule;
					if (status) res.statusCode = status;
					if (CREATED_LOCATION[name] && status !== 204) ctx.meta.$location = CREATED_LOCATION[name](data);
					return status === 204 ? null : data;
				},
			},
		],

		// moleculer-web has already logged server-side errors by now.
		onError(_req: IncomingMessage, res: ServerResponse, err: unknown) {
			const { status, body } = toErrorResponse(err);
			sendJson(res, status, body);
		},
	},

	actions: {
		// moleculer-web runs each HTTP request as the local action `api.rest`.
		// Downstream calls already retry and break circuits per endpoint; doing it
		// here again would re-run whole requests (a retry storm) and, once the
		// breaker opened on the gateway itself, turn every route into a 404.
		rest: {
			retryPolicy: { enabled: false },
			circuitBreaker: { enabled: false },
		},
		live: {
			handler(this: Service) {
				return { status: "ok", nodeID: this.broker.nodeID };
			},
		},
		ready: {
			async handler(this: Service, ctx: Context<unknown, { $statusCode?: number }>) {
				const report = await nodeReadiness(this.broker);
				if (report.status !== "ok") ctx.meta.$statusCode = 503;
				return report;
			},
		},
	},

	methods: {
		/** A Bearer token becomes ctx.meta.user; no header is an anonymous call, a bad token a 401. */
		async authenticate(ctx: Context, _route: unknown, req: IncomingMessage): Promise<AuthUser | null> {
			const header = req.headers.authorization;
			if (!header) return null;
			const [scheme, token] = header.split(" ");
			if (scheme?.toLowerCase() !== "bearer" || !token) throw invalidToken("Use an Authorization: Bearer <token> header");
			return ctx.call<AuthUser, { token: string }>("auth.resolveToken", { token });
		},

		/** The action's declared `access` against the caller (the service checks again). */
		authorize(ctx: Context<unknown, ClientMeta>, _route: unknown, req: IncomingMessage & { $action?: { access?: Access } }): void {
			assertAccess(requiredAccess(req.$action), ctx.meta.user);
		},
	},

	// Settings that depend on the environment are filled in when the service is
	// created (not at import), before moleculer-web builds its routes.
	merged(this: Gateway, schema: ServiceSchema<GatewaySettings>) {
		const env = readEnv();
		trustedProxies = env.trustedProxies; // read once: onBeforeCall runs on every request
		const [healthRoute, apiRoute] = schema.settings!.routes;
		schema.settings!.port = env.port;
		// Always this node's own health, never another gateway's.
		healthRoute.callOptions = { nodeID: this.broker.nodeID, retries: 0 };
		apiRoute.bodyParsers.json.limit = env.bodyLimit;
		// Keep the raw bytes for signature checks (the carrier webhook).
		apiRoute.bodyParsers.json.verify = (req: IncomingMessage & { rawBody?: Buffer }, _res: unknown, buf: Buffer) => {
			req.rawBody = buf;
		};
		apiRoute.rateLimit = {
			window: env.rateLimitWindowMs,
			limit: env.rateLimit,
			headers: true,
			key: (req: IncomingMessage) => clientAddress(req, env.trustedProxies),
		};
		if (env.cacher) {
			// Counted in Redis so the limit holds across every gateway node.
			this.rateLimitRedis = sideRedisClient(env.cacher, "Rate limit", this.logger);
			apiRoute.rateLimit.StoreFactory = redisRateLimitStore(this.rateLimitRedis, `${env.namespace}-ratelimit`, this.logger);
		}
	},

	async stopped(this: Gateway) {
		await this.rateLimitRedis?.quit().catch(() => undefined);
	},
};

export default ApiService;
