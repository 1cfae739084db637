// docs/architecture.md, "Security behaviour every route shares", as a hostile
// or careless client meets it: preflights that must not act, CORS, headers on
// every answer, tokens that must stop working, throttling that must not lock
// the owner out, bodies that do not decode.
import { gzipSync } from "node:zlib";
import jwt from "jsonwebtoken";
import { allServices, startApp, type TestApp } from "../support/app";
import { request, type JsonResponse } from "../support/http";
import { Shopper } from "../support/shop";
import { DEVELOPMENT_JWT_SECRET } from "../../lib/platform/env";
import type { AuthResult, Cart, ErrorBody, Page, Product } from "../../lib/contract/contract";

const password = "correct horse battery"; // Shopper.register's
const allowedOrigin = "https://shop.example.com";
const foreignOrigin = "https://evil.example.net";

describe("security behaviour every route shares", () => {
	let app: TestApp;
	let product: Product;
	const api = (path: string) => `${app.url}/api${path}`;
	/** A client behind our trusted proxy (127.0.0.1), at `ip`. */
	const from = (ip: string) => ({ "x-forwarded-for": ip });
	const login = (email: string, pw: string, ip: string) =>
		request<AuthResult>(api("/auth/login"), { method: "POST", body: { email, password: pw }, headers: from(ip) });
	const register = async (): Promise<AuthResult> => (await Shopper.register(app.url)).auth;

	const logLines: string[] = [];

	beforeAll(async () => {
		for (const method of ["log", "warn", "error", "info"] as const) {
			jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void logLines.push(args.map(String).join(" ")));
		}
		app = await startApp(
			allServices(),
			{ CORS_ORIGINS: `${allowedOrigin},http://localhost:8080`, TRUSTED_PROXIES: "127.0.0.1", AUTH_RATE_LIMIT: "1000", RATE_LIMIT: "100000" },
			{ logs: true },
		);
		product = (await request<Page<Product>>(api("/products?pageSize=1"))).body.rows[0];
	});
	afterAll(async () => {
		await app.stop();
		jest.restoreAllMocks();
	});

	describe("preflight OPTIONS never runs an action", () => {
		it("leaves the cart alone when OPTIONS /api/cart asks about DELETE, with or without an Origin", async () => {
			const shopper = new Shopper(app.url, await register());
			expect((await shopper.call("POST", "/cart/items", { productId: product.id, quantity: 2 })).status).toBe(200);
			for (const origin of [undefined, allowedOrigin, foreignOrigin]) {
				const res = await request(api("/cart"), {
					method: "OPTIONS",
					headers: { ...shopper.headers, "access-control-request-method": "DELETE", ...(origin && { origin }) },
				});
				expect([res.status, res.body]).toEqual([204, undefined]);
			}
			// No Access-Control-Request-Method at all: moleculer-web alone would have run GET.
			expect((await request(api("/cart"), { method: "OPTIONS", headers: shopper.headers })).status).toBe(204);
			expect((await shopper.call<Cart>("GET", "/cart")).body.items).toEqual([expect.objectContaining({ productId: product.id, quantity: 2 })]);
		});

		it("deletes no product when the admin's token comes with OPTIONS asking about DELETE", async () => {
			const admin = await Shopper.admin(app.url);
			const res = await request(api(`/products/${product.id}`), {
				method: "OPTIONS",
				headers: { ...admin.headers, "access-control-request-method": "DELETE" },
			});
			expect(res.status).toBe(204);
			expect((await request(api(`/products/${product.id}`))).status).toBe(200);
		});

		it("returns no tokens for OPTIONS /api/auth/login with valid credentials in the body", async () => {
			const { user } = await register();
			const res = await fetch(api("/auth/login"), {
				method: "OPTIONS",
				headers: { "content-type": "application/json", "access-control-request-method": "POST" },
				body: JSON.stringify({ email: user.email, password }),
			});
			expect(res.status).toBe(204);
			expect(await res.text()).toBe("");
		});
	});

	describe("CORS", () => {
		it("gives an origin of CORS_ORIGINS the CORS headers, on preflights and on the real request", async () => {
			const preflight = await request(api("/cart"), {
				method: "OPTIONS",
				headers: { origin: allowedOrigin, "access-control-request-method": "DELETE", "access-control-request-headers": "authorization" },
			});
			expect(preflight.status).toBe(204);
			expect(preflight.headers.get("access-control-allow-origin")).toBe(allowedOrigin);
			expect(preflight.headers.get("access-control-allow-methods")).toContain("DELETE");
			expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
			const real = await request(api("/products?pageSize=1"), { headers: { origin: allowedOrigin } });
			expect(real.status).toBe(200);
			expect(real.headers.get("access-control-allow-origin")).toBe(allowedOrigin);
			expect(real.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
			expect(real.headers.get("vary")).toContain("Origin");
		});

		it("gives any other origin no CORS headers at all, and no credentials anywhere", async () => {
			for (const origin of [foreignOrigin, `${allowedOrigin}.evil.net`, "null", allowedOrigin.toUpperCase()]) {
				const preflight = await request(api("/cart"), { method: "OPTIONS", headers: { origin, "access-control-request-method": "DELETE" } });
				const real = await request(api("/products?pageSize=1"), { headers: { origin } });
				expect(preflight.status).toBe(204);
				expect(real.status).toBe(200);
				for (const res of [preflight, real]) {
					expect(res.headers.get("access-control-allow-origin")).toBeNull();
					expect(res.headers.get("access-control-allow-methods")).toBeNull();
					expect(res.headers.get("access-control-allow-credentials")).toBeNull();
				}
			}
		});
	});

	describe("headers on every response", () => {
		const hardened = (res: { status: number; headers: Headers }, what: string) => {
			expect({
				what,
				status: res.status,
				nosniff: res.headers.get("x-content-type-options"),
				frames: res.headers.get("x-frame-options"),
				referrer: res.headers.get("referrer-policy"),
			}).toEqual({ what, status: res.status, nosniff: "nosniff", frames: "DENY", referrer: "no-referrer" });
			expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
		};

		it("on successes, errors, 404s, preflights, /health and /docs", async () => {
			const cases: [string, RequestInit][] = [
				["/api/products?pageSize=1", {}],
				["/api/users/me", {}],
				["/api/nothing-here", {}],
				["/nothing-at-all", {}],
				["/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: "{" }],
				["/api/cart", { method: "OPTIONS", headers: { "access-control-request-method": "DELETE" } }],
				["/health/live", {}],
				["/health/ready", {}],
				["/docs", {}],
				["/docs/swagger-ui.css", {}],
				["/docs/no-such-file.js", {}],
			];
			for (const [path, init] of cases) hardened(await fetch(`${app.url}${path}`, init), path);
		});

		it("keeps JSON answers out of caches: they may hold tokens and personal data", async () => {
			const res = await request(api("/auth/login"), { method: "POST", body: { email: "nobody@example.com", password: "wrong password 1" } });
			expect(res.headers.get("cache-control")).toBe("no-store");
		});

		it("gives the docs page a CSP it works with: its scripts and stylesheet come from /docs, none inline", async () => {
			const page = await fetch(`${app.url}/docs`);
			const html = await page.text();
			const csp = page.headers.get("content-security-policy")!;
			expect(csp).toMatch(/script-src 'self'(;|$)/);
			expect(csp).toMatch(/style-src 'self'/);
			expect(csp).toMatch(/connect-src 'self'/);
			// Inline scripts would be blocked by script-src 'self'.
			expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
			const assets = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*\bhref)="([^"]+)"/g)].map(match => match[1]);
			expect(assets.length).toBeGreaterThanOrEqual(3);
			for (const asset of assets) {
				expect(asset).toMatch(/^\/docs\//); // same origin: allowed by 'self'
				const res = await fetch(`${app.url}${asset}`);
				expect([asset, res.status]).toEqual([asset, 200]);
				// nosniff: a script must be served as JavaScript, a stylesheet as CSS.
				expect(res.headers.get("content-type")).toMatch(asset.endsWith(".css") ? /^text\/css/ : /^text\/javascript/);
			}
			const start = await (await fetch(`${app.url}/docs/start.js`)).text();
			expect(start).toContain('url: "/api/openapi.json"'); // fetched from this origin: connect-src 'self'
		});

		it("serves readiness and liveness without the node id or database names", async () => {
			const ready = await request(`${app.url}/health/ready`);
			const live = await request(`${app.url}/health/live`);
			expect(ready.status).toBe(200);
			const text = JSON.stringify([ready.body, live.body]);
			expect(text).not.toContain(app.broker.nodeID);
			expect(text).not.toMatch(/products|users|orders|shop_/);
			expect(ready.body.status).toBe("ok");
			expect(live.body).toEqual({ status: "ok" });
		});
	});

	describe("bearer tokens", () => {
		const me = (token: string) => request<ErrorBody>(api("/users/me"), { headers: { authorization: `Bearer ${token}` } });
		const sign = (claims: object, subject: string, expiresIn: number) =>
			jwt.sign(claims, DEVELOPMENT_JWT_SECRET, { issuer: "moleculer-shop", audience: "moleculer-shop-api", subject, expiresIn });

		it("answers 401, not 422, to an oversized or malformed token", async () => {
			for (const token of ["x".repeat(5000), `${"a".repeat(2000)}.${"b".repeat(2000)}.${"c".repeat(1000)}`, "a.b", "a.b.c.d", "ä.b.c", "a..c"]) {
				const res = await me(token);
				expect([res.status, res.body.type]).toEqual([401, "INVALID_TOKEN"]);
			}
		});

		it("refuses a token once it expires, though its resolution was cached a moment before", async () => {
			const session = await register();
			const { sid } = jwt.decode(session.accessToken) as { sid: string };
			const shortLived = sign({ email: session.user.email, roles: ["customer"], sid }, session.user.id, 2);
			expect((await me(shortLived)).status).toBe(200); // resolved, and the session lookup cached for 30 s
			await new Promise(resolve => setTimeout(resolve, 2500));
			const res = await me(shortLived);
			expect([res.status, res.body.type]).toEqual([401, "INVALID_TOKEN"]);
			expect((await me(session.accessToken)).status).toBe(200);
		});

		it("refuses a well-signed token naming a session that never existed, or another user's session", async () => {
			const session = await register();
			const other = await register();
			const { sid } = jwt.decode(other.accessToken) as { sid: string };
			for (const claimedSid of ["00000000-0000-4000-8000-000000000000", sid]) {
				const res = await me(sign({ email: session.user.email, roles: ["customer"], sid: claimedSid }, session.user.id, 60));
				expect([res.status, res.body.type]).toEqual([401, "INVALID_TOKEN"]);
			}
		});
	});

	describe("login throttling", () => {
		it("never lets a guesser at one address lock the owner out from another", async () => {
			const { user } = await register();
			const statuses: number[] = [];
			for (let i = 0; i < 22; i++) statuses.push((await login(user.email, `wrong password ${i}`, "10.0.0.66")).status);
			expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
			expect(statuses).toContain(429);
			const locked = await login(user.email, password, "10.0.0.66");
			expect(locked.status).toBe(429);
			expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
			// The owner, elsewhere, is not affected.
			const owner = await login(user.email, password, "10.0.0.7");
			expect([owner.status, owner.body.user?.id]).toEqual([200, user.id]);
		});

		it("forgets a pair's failures once it logs in successfully", async () => {
			const { user } = await register();
			const attempt = async (pw: string) => (await login(user.email, pw, "10.0.0.8")).status;
			for (let i = 0; i < 5; i++) expect(await attempt(`wrong password ${i}`)).toBe(401);
			expect(await attempt(password)).toBe(200);
			// Five more free mistakes; without the reset the first of them would lock the pair.
			for (let i = 0; i < 5; i++) expect(await attempt(`wrong password ${i}`)).toBe(401);
			expect(await attempt(password)).toBe(200);
		});
	});

	describe("bodies that do not decode", () => {
		it("answers 400 with the error shape to a Content-Encoding the body is not in, and logs no ERROR", async () => {
			logLines.length = 0;
			const json = JSON.stringify({ email: "someone@example.com", password: "wrong password 1" });
			const cases: [string, string | Buffer][] = [
				["gzip", json],
				["deflate", json],
				["br", json],
				["gzip", gzipSync(json).subarray(0, 10)],
			];
			for (const [encoding, body] of cases) {
				const res = await fetch(api("/auth/login"), {
					method: "POST",
					headers: { "content-type": "application/json", "content-encoding": encoding },
					body,
				});
				const answer = (await res.json()) as ErrorBody;
				expect([encoding, res.status, answer]).toEqual([
					encoding,
					400,
					{ name: "BadRequestError", message: expect.any(String), code: 400, type: expect.any(String) },
				]);
				expect(JSON.stringify(answer)).not.toMatch(/zlib|stack|at /i);
			}
			// A body that is what it says is read as usual.
			const good = await fetch(api("/auth/login"), {
				method: "POST",
				headers: { "content-type": "application/json", "content-encoding": "gzip" },
				body: gzipSync(json),
			});
			expect(good.status).toBe(401);
			const unsupported = await fetch(api("/auth/login"), {
				method: "POST",
				headers: { "content-type": "application/json", "content-encoding": "compress" },
				body: json,
			});
			expect(unsupported.status).toBe(415);
			expect(logLines.filter(line => /ERROR|stack| {4}at /.test(line))).toEqual([]);
		});
	});

	it("answers 404 for the stock of a product the catalog does not have, 200 for one it has", async () => {
		const unknown: JsonResponse<ErrorBody> = await request(api("/inventory/no-such-product"));
		expect([unknown.status, unknown.body.code]).toEqual([404, 404]);
		expect((await request(api(`/inventory/${product.id}`))).status).toBe(200);
	});
});
