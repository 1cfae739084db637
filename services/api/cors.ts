// Cross-origin requests to the gateway. Browsers on the origins of
// CORS_ORIGINS (none by default) may call the API; every other origin gets no
// CORS headers, so the browser keeps the answer from its page. A preflight
// (OPTIONS) is answered here and never reaches a route, so no action runs and
// no body is read whatever headers it carries.
import type { IncomingMessage, ServerResponse } from "node:http";

const ALLOWED_METHODS = "GET, POST, PATCH, DELETE";
const ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id";
/** Response headers a page's script may read. */
const EXPOSED_HEADERS = "X-Request-Id, Location, Retry-After, X-Rate-Limit-Limit, X-Rate-Limit-Remaining, X-Rate-Limit-Reset";
const PREFLIGHT_MAX_AGE_S = "600";

export class CorsPolicy {
	private readonly origins: ReadonlySet<string>;

	constructor(origins: readonly string[]) {
		this.origins = new Set(origins);
	}

	/**
	 * Adds the CORS headers an allowed origin gets; answers an OPTIONS request
	 * completely (204) and returns true, so the caller routes nothing.
	 */
	handle(req: IncomingMessage, res: ServerResponse): boolean {
		const origin = req.headers.origin;
		const allowed = origin !== undefined && this.origins.has(origin);
		// Answers differ by Origin: caches must keep them apart.
		if (this.origins.size > 0) res.setHeader("Vary", "Origin");
		if (allowed) {
			res.setHeader("Access-Control-Allow-Origin", origin);
			res.setHeader("Access-Control-Expose-Headers", EXPOSED_HEADERS);
		}
		if (req.method !== "OPTIONS") return false;
		if (allowed && req.headers["access-control-request-method"]) {
			res.setHeader("Access-Control-Allow-Methods", ALLOWED_METHODS);
			res.setHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS);
			res.setHeader("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_S);
		}
		res.writeHead(204, { Allow: `${ALLOWED_METHODS}, OPTIONS`, "Content-Length": "0" });
		res.end();
		return true;
	}
}
