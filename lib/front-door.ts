// What the gateway decides about a request before moleculer-web or any service
// sees it: no such route (404), over the rate limit (429), a token that cannot
// be valid or none where one is needed (401), and a catalog page it already
// holds (200, or 304 when the client's copy is current). These answers never
// enter the action pipeline: refusing is the cheapest thing the gateway does,
// so a flood of refused requests cannot take it down.
import type { IncomingMessage, ServerResponse } from "node:http";
import ApiGateway from "moleculer-web";
import { Errors } from "moleculer";
import { toErrorResponse } from "./http-errors";
import { requestId } from "./request-id";
import { unauthorized } from "./access";
import { bearerToken, verifyAccessToken } from "./tokens";
import { clientHasPage, type Page, type PageCache } from "./page-cache";
import { ErrorTypes, type Access } from "./contract";
import type { RouteMatcher } from "./route-matcher";
import type { RateLimitStore } from "./rate-limit-store";
import type { FrontDoorMetrics } from "./front-door-metrics";

/** Public catalog data: any cache may keep it, but must check it is current (a cheap 304) before using it. */
export const PAGE_CACHE_CONTROL = "public, no-cache";
const JSON_TYPE = "application/json; charset=utf-8";

export interface RateLimit {
	limit: number;
	store: RateLimitStore;
	/** Who is counted: the client's address. */
	key(req: IncomingMessage): string;
}

export interface FrontDoorOptions {
	routes: RouteMatcher;
	rateLimit: RateLimit;
	/** The access-token key, to refuse a bad signature or an expired token here; without it only the token's shape is checked. */
	tokenSecret?: string;
	/** The `access` an action declares, once a node hosting it is known. */
	accessOf(action: string): Access | undefined;
	/** Actions whose anonymous answers are kept in `pages`. */
	pageActions: ReadonlySet<string>;
	pages: PageCache;
	metrics: FrontDoorMetrics;
}

export interface FrontDoorRequest extends IncomingMessage {
	/** An anonymous read of a cacheable page the cache lacks: where to keep the answer, and the cache's generation when it was asked. */
	$page?: { key: string; generation: number };
}

export class FrontDoor {
	constructor(private readonly options: FrontDoorOptions) {}

	/** True when the request has been answered here; false hands it on to moleculer-web. */
	async handle(req: FrontDoorRequest, res: ServerResponse): Promise<boolean> {
		const startedAt = performance.now();
		const matched = this.options.routes.match(req.method, req.url);
		if (!matched) return this.refuse(req, res, startedAt, new ApiGateway.Errors.NotFoundError("NOT_FOUND", undefined));
		if (!matched.api) return false;
		const refusal = (await this.overLimit(req, res)) ?? this.unauthenticated(req, matched.action);
		if (refusal) return this.refuse(req, res, startedAt, refusal);
		if (!this.options.pageActions.has(matched.action) || req.headers.authorization) return false;
		const { pages } = this.options;
		const page = pages.get(req.url!);
		if (!page) {
			req.$page = { key: req.url!, generation: pages.generation };
			return false;
		}
		sendPage(req, res, page);
		this.options.metrics.answered(startedAt);
		return true;
	}

	/** Counts the request; past the limit, the 429 it gets. */
	private async overLimit(req: IncomingMessage, res: ServerResponse): Promise<Error | undefined> {
		const { limit, store, key } = this.options.rateLimit;
		const remaining = limit - (await store.inc(key(req)));
		const resetAt = store.resetTime;
		res.setHeader("X-Rate-Limit-Limit", limit);
		res.setHeader("X-Rate-Limit-Remaining", Math.max(0, remaining));
		res.setHeader("X-Rate-Limit-Reset", resetAt);
		if (remaining >= 0) return undefined;
		const retryAfter = Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
		const err = new Errors.MoleculerClientError("Rate limit exceeded; retry later", 429, ErrorTypes.RATE_LIMITED, { retryAfter });
		err.name = "RateLimitExceeded";
		return err;
	}

	/** A token that cannot be valid, or none on a route that needs one. */
	private unauthenticated(req: IncomingMessage, action: string): Error | undefined {
		const header = req.headers.authorization;
		try {
			if (header === undefined) {
				const access = this.options.accessOf(action);
				return access !== undefined && access !== "public" ? unauthorized() : undefined;
			}
			const token = bearerToken(header);
			if (this.options.tokenSecret) verifyAccessToken(token, this.options.tokenSecret);
			return undefined;
		} catch (err) {
			return err as Error;
		}
	}

	private refuse(req: IncomingMessage, res: ServerResponse, startedAt: number, err: Error): true {
		const { status, body } = toErrorResponse(err);
		const retryAfter = (body.data as { retryAfter?: number } | undefined)?.retryAfter;
		if (retryAfter !== undefined) res.setHeader("Retry-After", retryAfter);
		const payload = JSON.stringify(body);
		res.writeHead(status, { "X-Request-ID": requestId(req.headers["x-request-id"] ?? req.headers["x-correlation-id"]), "Content-Type": JSON_TYPE, "Content-Length": Buffer.byteLength(payload) });
		res.end(payload);
		this.options.metrics.answered(startedAt, body);
		return true;
	}
}

function sendPage(req: IncomingMessage, res: ServerResponse, page: Page): void {
	const headers = { "X-Request-ID": requestId(req.headers["x-request-id"] ?? req.headers["x-correlation-id"]), ETag: page.etag, "Cache-Control": PAGE_CACHE_CONTROL };
	if (clientHasPage(req.headers["if-none-match"], page.etag)) {
		res.writeHead(304, headers);
		res.end();
		return;
	}
	res.writeHead(200, { ...headers, "Content-Type": JSON_TYPE, "Content-Length": page.body.length });
	res.end(page.body);
}
