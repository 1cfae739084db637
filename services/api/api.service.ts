// services/api/api.service.ts — the REST gateway (moleculer-web). Only the routes
// of lib/contract/api-routes.ts are reachable; every error leaves in the contract's JSON
// shape (docs/architecture.md, "The REST contract"); /api/openapi.json
// describes them all.
import type { IncomingMessage, ServerResponse } from "node:http";
import type Redis from "ioredis";
import ApiGateway from "moleculer-web";
import { Errors, type Context, type Service, type ServiceBroker, type ServiceSchema } from "moleculer";
import { jwtSecret, readEnv } from "../../lib/platform/env";
import { clientAddress } from "./client-address";
import { requestIdOf } from "./request-id";
import { toErrorResponse } from "./http-errors";
import { nodeReadiness, readinessStatusCode } from "../../lib/platform/readiness";
import { MemoryRateLimitStore, redisRateLimitStore } from "../../lib/auth/rate-limit-store";
import { assertAccess, requiredAccess } from "../../lib/auth/access";
import { accessTokenKey, bearerToken } from "../../lib/auth/tokens";
import type { ClientMeta } from "../../mixins/auth.mixin";
import type { Access, AuthUser } from "../../lib/contract/contract";
import { sideRedisClient } from "../../lib/platform/redis-client";
import { API_ROUTES, DOCS_ROUTES, HEALTH_ROUTES, ROUTE_GROUPS, successStatus, type ApiRoute } from "../../lib/contract/api-routes";
import { RouteMatcher } from "./route-matcher";
import { FrontDoor, PAGE_CACHE_CONTROL, type FrontDoorRequest } from "./front-door";
import { FrontDoorMetrics } from "./front-door-metrics";
import { clientHasPage, PageCache, pageOf } from "./page-cache";
import { cacheCleanEvent } from "../../lib/platform/cache-clean";
import { openApiDocument, registeredActionDoc } from "./openapi";
import { docsFile, docsPage, isDocsFile, type DocsFile } from "./api-docs";
import { setSecurityHeaders } from "../../lib/platform/security-headers";
import { CorsPolicy } from "./cors";
import { jsonBody } from "./json-body";
import { version } from "../../package.json";

interface Gateway extends Service {
	cors?: CorsPolicy;
	frontDoor?: FrontDoor;
	pages?: PageCache;
	rateLimitRedis?: Redis;
	openApi?: Record<string, unknown>;
}

interface ResponseMeta {
	$responseType?: string;
	$responseHeaders?: Record<string, string>;
}

/** A non-JSON body (the docs page), cacheable for an hour. */
function served(ctx: Context<unknown, ResponseMeta>, file: DocsFile): string {
	ctx.meta.$responseType = file.contentType;
	ctx.meta.$responseHeaders = { "Cache-Control": "public, max-age=3600", ...file.headers };
	return file.body;
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

/** What the gateway adds to a call's meta: the client, and what the route's table row asks for (headers, the raw body). */
type RequestMeta = ClientMeta & Record<string, unknown>;

/** TRUSTED_PROXIES, read when the gateway is created. */
let trustedProxies: string[] = [];

function headerValue(req: IncomingMessage, name: string): string | undefined {
	const value = req.headers[name];
	return Array.isArray(value) ? value[0] : value;
}

/** Catalog answers kept at the gateway: a page is at most a few tens of KB (pageSize <= 100). */
const PAGE_CACHE_LIMITS = { maxEntries: 2000, maxBytes: 32 * 1024 * 1024, ttlMs: 60_000 };

/** The /api route table by action name, for the status and Location of a response. */
const ROUTE_OF_ACTION = new Map(Object.values(API_ROUTES).map(route => [route.action, route]));

const aliasesOf = (routes: Record<string, ApiRoute>) => Object.fromEntries(Object.entries(routes).map(([alias, route]) => [alias, route.action]));

/** What an action declares (params, access), from whichever node hosts it; undefined while none does. */
function declaredAction(broker: ServiceBroker, action: string): { params?: unknown; access?: Access } | undefined {
	return broker.registry.getActionEndpoints(action)?.endpoints?.[0]?.action as { params?: unknown; access?: Access } | undefined;
}

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
			options.requestID = requestIdOf(req);
		},

		routes: [
			{
				path: "/health",
				mappingPolicy: "restrict",
				autoAliases: false,
				bodyParsers: false,
				aliases: aliasesOf(HEALTH_ROUTES),
			},
			{
				path: "/docs",
				mappingPolicy: "restrict",
				autoAliases: false,
				bodyParsers: false,
				aliases: aliasesOf(DOCS_ROUTES),
			},
			{
				path: "/api",
				mappingPolicy: "restrict",
				autoAliases: false,
				// JSON only, read by services/api/json-body.ts (see there why not moleculer-web's).
				bodyParsers: false,
				authentication: true,
				authorization: true,
				aliases: aliasesOf(API_ROUTES),
				onBeforeCall(ctx: Context<unknown, RequestMeta>, _route: unknown, req: IncomingMessage & { $action?: { name: string }; rawBody?: Buffer }) {
					ctx.meta.clientIp = clientAddress(req, trustedProxies);
					const route = ROUTE_OF_ACTION.get(req.$action?.name ?? "");
					for (const [name, header] of Object.entries(route?.headers ?? {})) ctx.meta[header.meta] = headerValue(req, name.toLowerCase());
					if (route?.rawBody) ctx.meta.rawBody = req.rawBody?.toString("utf8");
				},
				onAfterCall(
					this: Gateway,
					ctx: Context<unknown, ResponseMeta & { $location?: string }>,
					_route: unknown,
					req: FrontDoorRequest & { $action?: { name: string } },
					res: ServerResponse,
					data: { id?: string; status?: string },
				) {
					const route = ROUTE_OF_ACTION.get(req.$action?.name ?? "");
					if (!route) return data;
					const status = successStatus(route, data);
					res.statusCode = status;
					if (route.location && status === 201) ctx.meta.$location = route.location(data);
					if (route.pageCache) {
						// Sent as these bytes, with their ETag, as the front door sends a kept page.
						const page = pageOf(Buffer.from(JSON.stringify(data)));
						if (req.$page) this.pages!.set(req.$page.key, page, req.$page.generation);
						res.setHeader("ETag", page.etag);
						res.setHeader("Cache-Control", PAGE_CACHE_CONTROL);
						if (clientHasPage(req.headers["if-none-match"], page.etag)) {
							res.statusCode = 304;
							return null;
						}
						ctx.meta.$responseType = "application/json; charset=utf-8";
						return page.body;
					}
					return status === 204 ? null : data;
				},
			},
		],

		// moleculer-web has already logged server-side errors by now.
		onError(_req: IncomingMessage, res: ServerResponse, err: unknown) {
			const { status, body } = toErrorResponse(err);
			const retryAfter = (body.data as { retryAfter?: unknown } | undefined)?.retryAfter;
			if (status === 429 && typeof retryAfter === "number" && !res.headersSent) res.setHeader("Retry-After", String(retryAfter));
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
			handler() {
				return { status: "ok" };
			},
		},
		openapi: {
			access: "public",
			handler(this: Gateway) {
				// The params and access each action declares, from the registry: the gateway loads no service module.
				this.openApi ??= openApiDocument(ROUTE_GROUPS, name => registeredActionDoc(declaredAction(this.broker, name)), version);
				return this.openApi;
			},
		},
		docs: {
			handler(ctx: Context<unknown, ResponseMeta>) {
				return served(ctx, docsPage());
			},
		},
		docsFile: {
			params: { file: { type: "string", max: 64 } },
			handler(ctx: Context<{ file: string }, ResponseMeta>) {
				if (!isDocsFile(ctx.params.file)) throw new Errors.MoleculerClientError("No such file", 404, "NOT_FOUND");
				return served(ctx, docsFile(ctx.params.file));
			},
		},
		ready: {
			async handler(this: Service, ctx: Context<unknown, { $statusCode?: number }>) {
				const report = await nodeReadiness(this.broker);
				ctx.meta.$statusCode = readinessStatusCode(report);
				return report;
			},
		},
	},

	methods: {
		/**
		 * Every request enters here, before moleculer-web routes it: headers every
		 * answer carries, CORS, then the front door (services/api/front-door.ts), which
		 * answers refusals and cached catalog pages itself. moleculer-web's own
		 * CORS is not used: it routes an OPTIONS request as a call of its
		 * Access-Control-Request-Method (or of GET without one) and reads its body
		 * before answering a preflight.
		 */
		async httpHandler(this: Gateway, req: IncomingMessage, res: ServerResponse, next?: unknown) {
			// The front door sends these with its own answers, in one writeHead.
			if (req.method === "OPTIONS") setSecurityHeaders(res);
			if (this.cors!.handle(req, res)) return;
			try {
				if (await this.frontDoor!.handle(req, res)) return;
			} catch (err) {
				this.logger.error("The front door failed", err);
				setSecurityHeaders(res);
				const { status, body } = toErrorResponse(err);
				return sendJson(res, status, body);
			}
			setSecurityHeaders(res);
			return ApiGateway.methods!.httpHandler.call(this, req, res, next);
		},

		/** A Bearer token becomes ctx.meta.user; no header is an anonymous call, a bad token a 401. */
		async authenticate(ctx: Context, _route: unknown, req: IncomingMessage): Promise<AuthUser | null> {
			const header = req.headers.authorization;
			if (!header) return null;
			// The signature and expiry again, and whether the session is still live.
			return ctx.call<AuthUser, { token: string }>("auth.resolveToken", { token: bearerToken(header) });
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
		this.cors = new CorsPolicy(env.corsOrigins);
		const pages = (this.pages = new PageCache(PAGE_CACHE_LIMITS));
		/** The `access` each action declares, as the registry has it. */
		const accessByAction = new Map<string, Access>();
		const accessOf = (action: string): Access | undefined => {
			let access = accessByAction.get(action);
			if (access === undefined) {
				const declared = declaredAction(this.broker, action);
				if (!declared) return undefined; // no node hosts it now: moleculer-web answers 503
				access = requiredAccess(declared);
				accessByAction.set(action, access);
			}
			return access;
		};
		// Every node hears when a catalog service's data changes; so does every gateway's page cache.
		const pageActions = new Set(
			Object.values(API_ROUTES)
				.filter(route => route.pageCache)
				.map(route => route.action),
		);
		const pageServices = new Set([...pageActions].map(action => action.split(".")[0]));
		schema.events = {
			...schema.events,
			...Object.fromEntries([...pageServices].map(service => [cacheCleanEvent(service), { handler: () => pages.clear() }])),
			// A redeployed service may declare other params and access rules.
			"$services.changed": {
				handler: () => {
					accessByAction.clear();
					this.openApi = undefined;
				},
			},
		};
		const routeAt = (path: string) => schema.settings!.routes.find((route: { path: string }) => route.path === path);
		const [healthRoute, apiRoute] = [routeAt("/health"), routeAt("/api")];
		schema.settings!.port = env.port;
		// Always this node's own health, never another gateway's.
		healthRoute.callOptions = { nodeID: this.broker.nodeID, retries: 0 };
		apiRoute.use = [
			jsonBody({
				strict: true,
				limit: env.bodyLimit,
				// Keep the raw bytes for signature checks (the carrier webhook).
				verify: (req: IncomingMessage & { rawBody?: Buffer }, _res: unknown, buf: Buffer) => {
					req.rawBody = buf;
				},
			}),
		];
		// Counted in Redis where there is one, so the limit holds across every gateway
		// node (on each node by itself while Redis is unreachable). this.logger does
		// not exist yet in merged(): the broker's logger for this service does.
		if (env.cacher) this.rateLimitRedis = sideRedisClient(env.cacher, "Rate limit", this.broker.getLogger(schema.name, { svc: schema.name }));
		const RateLimitStore = this.rateLimitRedis ? redisRateLimitStore(this.rateLimitRedis, `${env.namespace}-ratelimit`) : MemoryRateLimitStore;
		this.frontDoor = new FrontDoor({
			routes: new RouteMatcher(schema.settings!.routes),
			rateLimit: { limit: env.rateLimit, store: new RateLimitStore(env.rateLimitWindowMs), key: req => clientAddress(req, env.trustedProxies) },
			// Without the key (a production gateway not given JWT_SECRET), the auth service alone checks signatures.
			tokenKey: env.jwtSecret || env.nodeEnv !== "production" ? accessTokenKey(jwtSecret(env)) : undefined,
			accessOf,
			pageActions,
			pages,
			metrics: new FrontDoorMetrics(this.broker.metrics, schema.name),
		});
	},

	async stopped(this: Gateway) {
		await this.rateLimitRedis?.quit().catch(() => undefined);
	},
};

export default ApiService;
