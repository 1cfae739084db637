// The gateway: what any client sees no matter which service answers.
import { Errors, type Context, type ServiceSchema } from "moleculer";
import ApiService from "../../services/api/api.service";
import { startApp, type TestApp } from "../support/app";
import { request } from "../support/http";

/** The real gateway with one extra alias on its /api route, to reach a stub. */
function gatewayWithEcho(): ServiceSchema {
	const routes = ApiService.settings!.routes.map((route: { path: string; aliases: object }) =>
		route.path === "/api" ? { ...route, aliases: { ...route.aliases, "POST echo": "echo.body", "GET echo/context": "echo.context" } } : route,
	);
	return { ...ApiService, settings: { ...ApiService.settings, routes } } as ServiceSchema;
}

let failures = 0;
const Echo: ServiceSchema = {
	name: "echo",
	actions: {
		body: { access: "public", handler: (ctx: Context) => ctx.params },
		context: { access: "public", handler: (ctx: Context) => ({ requestID: ctx.requestID }) },
		internal: () => "never over HTTP",
	},
};
const FailingProducts: ServiceSchema = {
	name: "products",
	actions: {
		list: {
			access: "public",
			handler() {
				failures++;
				throw new Errors.MoleculerError("disk on fire at /var/lib/secret", 500, "BOOM");
			},
		},
	},
};

describe("gateway", () => {
	let app: TestApp;
	beforeAll(async () => {
		app = await startApp([gatewayWithEcho(), Echo], { BODY_LIMIT: "1kb", RATE_LIMIT: "1000" });
	});
	afterAll(() => app.stop());

	it("answers a JSON body with the parsed JSON", async () => {
		const res = await request(`${app.url}/api/echo`, { method: "POST", body: { a: 1 } });
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ a: 1 });
	});

	it("rejects malformed JSON with 400 INVALID_JSON", async () => {
		const res = await request(`${app.url}/api/echo`, { method: "POST", rawBody: '{"a": ' });
		expect(res.status).toBe(400);
		expect(res.body).toMatchObject({ code: 400, type: "INVALID_JSON", name: expect.any(String), message: expect.any(String) });
	});

	it("rejects a body over the size limit with 413", async () => {
		const res = await request(`${app.url}/api/echo`, { method: "POST", body: { pad: "x".repeat(2000) } });
		expect(res.status).toBe(413);
		expect(res.body).toMatchObject({ code: 413, type: "PAYLOAD_TOO_LARGE" });
	});

	it("keeps a sane X-Request-Id, carries it as the context request id and returns it", async () => {
		const res = await request(`${app.url}/api/echo/context`, { headers: { "X-Request-Id": "order-flow.42" } });
		expect(res.headers.get("x-request-id")).toBe("order-flow.42");
		expect(res.body).toEqual({ requestID: "order-flow.42" });
	});

	it("replaces a hostile X-Request-Id and generates one when none is sent", async () => {
		const hostile = await request(`${app.url}/api/echo/context`, { headers: { "X-Request-Id": "<script>alert(1)</script>" } });
		const none = await request(`${app.url}/api/echo/context`);
		for (const res of [hostile, none]) {
			const id = res.headers.get("x-request-id");
			expect(id).toMatch(/^[0-9a-f-]{36}$/);
			expect(res.body.requestID).toBe(id);
		}
		expect(hostile.headers.get("x-request-id")).not.toBe(none.headers.get("x-request-id"));
	});

	it("answers 404 with the error shape for a path that is not an alias, even if the action exists", async () => {
		for (const path of ["/api/nothing-here", "/api/echo/internal", "/api/echo.internal", "/echo/internal"]) {
			const res = await request(`${app.url}${path}`);
			expect(res.status).toBe(404);
			expect(res.body).toMatchObject({ name: "NotFoundError", code: 404, type: "NOT_FOUND" });
		}
	});

	it("answers 503, not 404 or 500, when the service behind an alias is not running", async () => {
		const res = await request(`${app.url}/api/products`);
		expect(res.status).toBe(503);
		expect(res.body).toMatchObject({ code: 503, type: "SERVICE_UNAVAILABLE" });
		expect(JSON.stringify(res.body)).not.toMatch(/products\.list|nodeID/);
	});

	it("reports itself live and ready", async () => {
		const live = await request(`${app.url}/health/live`);
		const ready = await request(`${app.url}/health/ready`);
		expect(live.status).toBe(200);
		expect(ready.status).toBe(200);
		expect(ready.body).toMatchObject({ status: "ok", checks: { services: { ok: true }, cache: { ok: true } } });
	});
});

describe("gateway in front of a failing service", () => {
	let app: TestApp;
	beforeAll(async () => {
		app = await startApp([ApiService, FailingProducts]);
	});
	afterAll(() => app.stop());

	it("hides internal error details behind a generic 500", async () => {
		const res = await request(`${app.url}/api/products`);
		expect(res.status).toBe(500);
		expect(res.body).toEqual({ name: "InternalServerError", message: expect.any(String), code: 500, type: "INTERNAL" });
		expect(JSON.stringify(res.body)).not.toContain("secret");
	});

	it("opens the circuit after repeated server errors and then answers 503 without calling the service", async () => {
		for (let i = 0; i < 12; i++) await request(`${app.url}/api/products`);
		const callsBefore = failures;
		const res = await request(`${app.url}/api/products`);
		expect(res.status).toBe(503);
		expect(res.body.type).toBe("SERVICE_UNAVAILABLE");
		expect(failures).toBe(callsBefore);
	});
});

describe("gateway rate limit", () => {
	let app: TestApp;
	beforeAll(async () => {
		app = await startApp([gatewayWithEcho(), Echo], { RATE_LIMIT: "5" });
	});
	afterAll(() => app.stop());

	it("answers 429 once a client spends its budget, whatever X-Forwarded-For it claims", async () => {
		const statuses: number[] = [];
		for (let i = 0; i < 8; i++) {
			const res = await request(`${app.url}/api/echo/context`, { headers: { "X-Forwarded-For": `10.0.0.${i}` } });
			statuses.push(res.status);
		}
		expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
		expect(statuses.slice(5)).toEqual([429, 429, 429]);
		const limited = await request(`${app.url}/api/echo/context`);
		expect(limited.body).toMatchObject({ code: 429 });
	});

	it("does not count health probes against the budget", async () => {
		const res = await request(`${app.url}/health/ready`);
		expect(res.status).toBe(200);
	});
});
