// What the gateway decides about a request before moleculer-web or any service
// sees it: no such route (404), over the rate limit (429), a token that cannot
// be valid or none where one is needed (401), and a catalog page it already
// holds (200, or 304 when the client's copy is current). These answers never
// enter the action pipeline, and are written with one writeHead and no Error
// object (capturing a stack costs more than the rest of a refusal): refusing is
// the cheapest thing the gateway does, so a flood of refused requests cannot
// take it down.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { KeyObject } from "node:crypto";
import { toErrorResponse } from "./http-errors";
import { requestIdOf } from "./request-id";
import { securityHeaderList } from "../../lib/platform/security-headers";
import { BEARER_HINT, bearerTokenOf, verifyAccessToken } from "../../lib/auth/tokens";
import { clientHasPage, type Page, type PageCache } from "./page-cache";
import { ErrorTypes, type Access } from "../../lib/contract/contract";
import type { RouteMatcher } from "./route-matcher";
import type { RateLimitStore } from "../../lib/auth/rate-limit-store";
import type { CountedError, FrontDoorMetrics } from "./front-door-metrics";

/** Public catalog data: any cache may keep it, but must check it is current (a cheap 304) before using it. */
export const PAGE_CACHE_CONTROL = "public, no-cache";
const JSON_TYPE = "application/json; charset=utf-8";
const ERROR_HEADERS = [...securityHeaderList("no-store"), "Content-Type", JSON_TYPE];
const PAGE_HEADERS = securityHeaderList(PAGE_CACHE_CONTROL);

/** An error answer, worked out once: its status, JSON bytes and what the metrics record. */
interface Refusal {
	status: number;
	body: Buffer;
	error: CountedError;
}

function refusal(error: { name: string; message: string; code: number; type: string; data?: unknown }): Refusal {
	const { status, body } = toErrorResponse(error);
	return { status, body: Buffer.from(JSON.stringify(body)), error: body };
}

// The same shapes the services and moleculer-web give for these errors.
const NOT_FOUND = refusal({ name: "NotFoundError", message: "Not found", code: 404, type: "NOT_FOUND" });
const SIGN_IN = refusal({ name: "UnAuthorizedError", message: "Sign in to do this", code: 401, type: "UNAUTHORIZED" });
const NOT_BEARER = refusal({ name: "UnAuthorizedError", message: BEARER_HINT, code: 401, type: "INVALID_TOKEN" });
const BAD_TOKEN = refusal({ name: "UnAuthorizedError", message: "The access token is invalid or expired", code: 401, type: "INVALID_TOKEN" });

/** 429s by seconds to wait: one per second of the window at most. */
const tooManyBySeconds = new Map<number, Refusal>();
function tooMany(retryAfter: number): Refusal {
	let answer = tooManyBySeconds.get(retryAfter);
	if (!answer) {
		answer = refusal({
			name: "RateLimitExceeded",
			message: "Rate limit exceeded; retry later",
			code: 429,
			type: ErrorTypes.RATE_LIMITED,
			data: { retryAfter },
		});
		tooManyBySeconds.set(retryAfter, answer);
	}
	return answer;
}

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
	tokenKey?: KeyObject;
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
		if (!matched) return this.refuse(req, res, startedAt, NOT_FOUND, []);
		if (!matched.api) return false;

		const { limit, store, key } = this.options.rateLimit;
		const remaining = limit - (await store.inc(key(req)));
		const resetAt = store.resetTime;
		const rateHeaders = [
			"X-Rate-Limit-Limit",
			String(limit),
			"X-Rate-Limit-Remaining",
			String(Math.max(0, remaining)),
			"X-Rate-Limit-Reset",
			String(resetAt),
		];
		if (remaining < 0) {
			const retryAfter = Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
			return this.refuse(req, res, startedAt, tooMany(retryAfter), [...rateHeaders, "Retry-After", String(retryAfter)]);
		}
		const unauthenticated = this.unauthenticated(req, matched.action);
		if (unauthenticated) return this.refuse(req, res, startedAt, unauthenticated, rateHeaders);

		const page = !req.headers.authorization && this.options.pageActions.has(matched.action) ? this.keptPage(req) : undefined;
		if (page) {
			this.sendPage(req, res, page, rateHeaders);
			this.options.metrics.answered(startedAt);
			return true;
		}
		for (let i = 0; i < rateHeaders.length; i += 2) res.setHeader(rateHeaders[i], rateHeaders[i + 1]);
		return false;
	}

	/** A token that cannot be valid, or none on a route that needs one. */
	private unauthenticated(req: IncomingMessage, action: string): Refusal | undefined {
		const header = req.headers.authorization;
		if (header === undefined) {
			const access = this.options.accessOf(action);
			return access !== undefined && access !== "public" ? SIGN_IN : undefined;
		}
		const token = bearerTokenOf(header);
		if (token === null) return NOT_BEARER;
		if (token === undefined) return BAD_TOKEN;
		if (!this.options.tokenKey) return undefined;
		try {
			verifyAccessToken(token, this.options.tokenKey);
			return undefined;
		} catch {
			return BAD_TOKEN;
		}
	}

	/** The kept page for this URL; on a miss, marks the request so its answer is kept. */
	private keptPage(req: FrontDoorRequest): Page | undefined {
		const { pages } = this.options;
		const page = pages.get(req.url!);
		if (!page) req.$page = { key: req.url!, generation: pages.generation };
		return page;
	}

	private refuse(req: IncomingMessage, res: ServerResponse, startedAt: number, answer: Refusal, headers: string[]): true {
		res.writeHead(answer.status, [...ERROR_HEADERS, ...headers, "X-Request-ID", requestIdOf(req), "Content-Length", String(answer.body.length)]);
		res.end(answer.body);
		this.options.metrics.answered(startedAt, answer.error);
		return true;
	}

	private sendPage(req: IncomingMessage, res: ServerResponse, page: Page, headers: string[]): void {
		const common = [...PAGE_HEADERS, ...headers, "X-Request-ID", requestIdOf(req), "ETag", page.etag];
		if (clientHasPage(req.headers["if-none-match"], page.etag)) {
			res.writeHead(304, common);
			res.end();
			return;
		}
		res.writeHead(200, [...common, "Content-Type", JSON_TYPE, "Content-Length", String(page.body.length)]);
		res.end(page.body);
	}
}
