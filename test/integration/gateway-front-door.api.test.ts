// What the gateway answers by itself, with the whole app in one broker:
// conditional GETs of the catalog (ETag, 304, invalidation when a product
// changes), and refusals (unknown route, no or bad token, rate limit) that no
// service ever sees. Calls are read from Moleculer's request metrics, the
// series the dashboard reads.
import { METRIC, type ServiceBroker } from "moleculer";
import jwt from "jsonwebtoken";
import { allServices, startApp, type TestApp } from "../support/app";
import { request } from "../support/http";
import { Shopper } from "../support/shop";
import { DEVELOPMENT_JWT_SECRET } from "../../lib/platform/env";
import type { Page, Product } from "../../lib/contract/contract";

interface MetricItem {
	value?: number;
	count?: number;
	labels: Record<string, unknown>;
}

/** The sum of a request series over the items whose labels include `labels`. */
function requests(broker: ServiceBroker, name: string, labels: Record<string, unknown>): number {
	const metric = broker.metrics.getMetric(name) as unknown as { values: Map<string, MetricItem> };
	return [...metric.values.values()]
		.filter(item => Object.entries(labels).every(([key, value]) => item.labels[key] === value))
		.reduce((sum, item) => sum + (item.value ?? item.count ?? 0), 0);
}

const calls = (broker: ServiceBroker, action: string) => requests(broker, METRIC.MOLECULER_REQUEST_TOTAL, { action });

describe("the gateway's front door", () => {
	let app: TestApp;
	let admin: Shopper;
	beforeAll(async () => {
		app = await startApp(allServices(), { METRICS_PORT: "0", RATE_LIMIT: "200", RATE_LIMIT_WINDOW_MS: "3600000", TRUSTED_PROXIES: "127.0.0.1" });
		admin = await Shopper.admin(app.url);
	});
	afterAll(() => app.stop());

	describe("conditional GETs of the catalog", () => {
		it("sends an ETag and public revalidation rules, and answers a matching If-None-Match with 304 and no body, without calling the catalog", async () => {
			const url = `${app.url}/api/products?category=books&pageSize=3`;
			const first = await request<Page<Product>>(url);
			expect(first.status).toBe(200);
			const etag = first.headers.get("etag")!;
			expect(etag).toMatch(/^"[\w-]+"$/);
			expect(first.headers.get("cache-control")).toBe("public, no-cache");

			const listed = calls(app.broker, "products.list");
			const again = await request<Page<Product>>(url);
			expect(again.body).toEqual(first.body);
			expect(again.headers.get("etag")).toBe(etag);
			for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
				const res = await fetch(url, { headers: { "If-None-Match": ifNoneMatch } });
				expect(res.status).toBe(304);
				expect(await res.text()).toBe("");
				expect(res.headers.get("etag")).toBe(etag);
				expect(res.headers.get("x-content-type-options")).toBe("nosniff");
			}
			expect(calls(app.broker, "products.list")).toBe(listed);
			// The answers were still counted as requests the gateway served.
			expect(calls(app.broker, "api.rest")).toBeGreaterThan(0);

			const stale = await fetch(url, { headers: { "If-None-Match": '"not-the-current-one"' } });
			expect(stale.status).toBe(200);
		});

		it("gives one product an ETag too, and a 304 on the first request when the client's copy matches", async () => {
			const { body } = await request<Page<Product>>(`${app.url}/api/products?pageSize=1&sort=name`);
			const url = `${app.url}/api/products/${body.rows[0].id}`;
			const first = await request<Product>(url);
			expect(first.headers.get("etag")).toBeTruthy();
			// Another client with the same copy, on a query the gateway has not kept yet: an answer of the pipeline.
			const signedIn = await fetch(url, { headers: { ...admin.headers, "If-None-Match": first.headers.get("etag")! } });
			expect(signedIn.status).toBe(304);
		});

		it("changes the page and its ETag together when a product changes, and 304s only the new one", async () => {
			const url = `${app.url}/api/products?category=toys&sort=price&pageSize=1`;
			const before = await request<Page<Product>>(url);
			const product = before.body.rows[0];
			const productUrl = `${app.url}/api/products/${product.id}`;
			const productBefore = await request<Product>(productUrl);

			const renamed = await admin.call<Product>("PATCH", `/products/${product.id}`, { name: `Renamed ${Date.now()}` });
			expect(renamed.status).toBe(200);

			for (const [target, old] of [
				[url, before],
				[productUrl, productBefore],
			] as const) {
				const res = await fetch(target, { headers: { "If-None-Match": old.headers.get("etag")! } });
				expect(res.status).toBe(200);
				expect(res.headers.get("etag")).not.toBe(old.headers.get("etag"));
				expect(JSON.stringify(await res.json())).toContain(renamed.body.name);
				expect((await fetch(target, { headers: { "If-None-Match": res.headers.get("etag")! } })).status).toBe(304);
			}

			expect((await admin.call("DELETE", `/products/${product.id}`)).status).toBe(204);
			expect((await request(productUrl)).status).toBe(404);
			expect((await request<Page<Product>>(url)).body.rows[0]?.id).not.toBe(product.id);
		});

		it("never sends a kept page for a request with a bad token: that is still a 401", async () => {
			await request(`${app.url}/api/products?pageSize=2`);
			const res = await request(`${app.url}/api/products?pageSize=2`, { headers: { authorization: "Bearer not.a.token" } });
			expect(res.status).toBe(401);
		});
	});

	describe("refusals no service sees", () => {
		it("answers an unknown route 404 with the error shape", async () => {
			const before = calls(app.broker, "api.rest");
			for (const path of ["/api/nope", "/api/products/1/2/3", "/nope", "/api//products", "/api/auth/resolveToken"]) {
				const res = await request(`${app.url}${path}`);
				expect(res.status).toBe(404);
				expect(res.body).toEqual({ name: "NotFoundError", message: "Not found", code: 404, type: "NOT_FOUND" });
				expect(res.headers.get("x-request-id")).toBeTruthy();
			}
			// Counted, as before, as requests of the gateway that failed with 404.
			expect(calls(app.broker, "api.rest")).toBe(before + 5);
			expect(requests(app.broker, METRIC.MOLECULER_REQUEST_ERROR_TOTAL, { action: "api.rest", errorCode: 404 })).toBeGreaterThanOrEqual(5);
		});

		it("refuses a protected route without a token, and a token that is expired, forged or malformed, before any service runs", async () => {
			const resolved = calls(app.broker, "auth.resolveToken");
			const carts = calls(app.broker, "carts.get");
			const claims = { email: "x@example.com", roles: ["admin"], sid: "s" };
			const options = { algorithm: "HS256" as const, issuer: "moleculer-shop", audience: "moleculer-shop-api", subject: "u" };
			const tokens = [
				jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 }, DEVELOPMENT_JWT_SECRET, options),
				jwt.sign(claims, "someone else's key", { ...options, expiresIn: 60 }),
				"not-a-jwt",
			];
			const none = await request(`${app.url}/api/cart`);
			expect(none.status).toBe(401);
			expect(none.body).toMatchObject({ code: 401, type: "UNAUTHORIZED" });
			for (const token of tokens) {
				const res = await request(`${app.url}/api/cart`, { headers: { authorization: `Bearer ${token}` } });
				expect(res.status).toBe(401);
				expect(res.body).toMatchObject({ code: 401, type: "INVALID_TOKEN" });
			}
			expect(calls(app.broker, "auth.resolveToken")).toBe(resolved);
			expect(calls(app.broker, "carts.get")).toBe(carts);
			// A good token still goes through.
			expect((await admin.call("GET", "/cart")).status).toBe(200);
		});

		it("refuses past the rate limit with 429, Retry-After and the contract's error shape, without calling the catalog", async () => {
			const client = { "X-Forwarded-For": "192.0.2.77" };
			const url = `${app.url}/api/products?pageSize=1&q=limited`;
			const statuses: number[] = [];
			for (let i = 0; i < 200; i++) statuses.push((await fetch(url, { headers: client })).status);
			expect(statuses.every(status => status === 200)).toBe(true);
			const listed = calls(app.broker, "products.list");
			const refused = await request(url, { headers: client });
			expect(refused.status).toBe(429);
			expect(refused.body).toMatchObject({ name: "RateLimitExceeded", code: 429, type: "RATE_LIMITED", data: { retryAfter: expect.any(Number) } });
			expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
			expect(refused.headers.get("x-rate-limit-remaining")).toBe("0");
			// A refused read of a page no one has asked for yet.
			expect((await request(`${app.url}/api/products?pageSize=1&q=never-served`, { headers: client })).status).toBe(429);
			expect(calls(app.broker, "products.list")).toBe(listed);
			expect(requests(app.broker, METRIC.MOLECULER_REQUEST_ERROR_TOTAL, { action: "api.rest", errorCode: 429 })).toBeGreaterThanOrEqual(2);
		});
	});
});
