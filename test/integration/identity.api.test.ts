// Identity through the gateway: a customer's session from register to logout,
// the admin's catalog routes, and the attacks each must refuse.
import jwt from "jsonwebtoken";
import { allServices, describeEachDatabase, startApp, uniqueName, type TestApp } from "../support/app";
import { describeWithServers, serverUrls } from "../support/servers";
import { request } from "../support/http";
import { eventually } from "../support/wait";
import { DEVELOPMENT_ADMIN, DEVELOPMENT_JWT_SECRET } from "../../lib/platform/env";
import * as passwords from "../../services/users/password";
import UsersService from "../../services/users/users.service";
import type { AuthResult, ErrorBody, Product } from "../../lib/contract/contract";

const password = "correct horse battery staple";

describeEachDatabase("identity over HTTP", backend => {
	let app: TestApp;
	let seq = 0;
	const api = (path: string) => `${app.url}/api${path}`;
	const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
	const post = <T = AuthResult>(path: string, body: unknown, headers: Record<string, string> = {}) =>
		request<T>(api(path), { method: "POST", body, headers });
	const newEmail = () => `shopper${++seq}.${Date.now()}@example.com`;
	const register = async (email = newEmail()) => (await post("/auth/register", { email, password, name: "Shopper" })).body;
	const login = async (email: string, pw = password) => post("/auth/login", { email, password: pw });

	beforeAll(async () => {
		app = await startApp(allServices(), { ...backend.env(), AUTH_RATE_LIMIT: "1000" });
	});
	afterAll(() => app.stop());

	it("registers a customer: 201 with the user and a token pair, email normalised, extra fields ignored", async () => {
		const email = newEmail();
		const res = await post("/auth/register", {
			email: `  ${email.toUpperCase()} `,
			password,
			name: " Ada ",
			roles: ["admin"],
			id: "mine",
			passwordHash: "x",
			isAdmin: true,
		});
		expect(res.status).toBe(201);
		expect(res.headers.get("location")).toBe("/api/users/me");
		expect(res.body).toEqual({
			user: { id: expect.any(String), email, name: "Ada", roles: ["customer"], createdAt: expect.any(String), updatedAt: expect.any(String) },
			accessToken: expect.any(String),
			refreshToken: expect.any(String),
			expiresIn: 900,
		});
		expect(res.body.user.id).not.toBe("mine");
		const me = await request(api("/users/me"), { headers: bearer(res.body.accessToken) });
		expect(me.body).toEqual(res.body.user);
		// The user.registered fact reaches the notifications service: a welcome email.
		const inbox = await eventually(
			() => request(api("/notifications"), { headers: bearer(res.body.accessToken) }),
			r => r.body.rows?.[0]?.status === "SENT",
			5000,
		);
		expect(inbox.body.rows).toEqual([expect.objectContaining({ userId: res.body.user.id, to: email, template: "welcome", status: "SENT" })]);
	});

	it("refuses a second account for the same email in any case with 409, even when registrations race", async () => {
		const email = newEmail();
		const results = await Promise.all(
			Array.from({ length: 6 }, (_, i) => post("/auth/register", { email: i % 2 ? email.toUpperCase() : email, password, name: "Racer" })),
		);
		expect(results.map(r => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
		expect((results.find(r => r.status === 409)!.body as unknown as ErrorBody).type).toBe("EMAIL_TAKEN");
	});

	it("rejects weak, missing, oversized and operator-shaped fields with 422", async () => {
		const cases = [
			{ email: newEmail(), password: "short", name: "A" },
			{ email: "not-an-email", password, name: "A" },
			{ email: newEmail(), password: "x".repeat(129), name: "A" },
			{ email: newEmail(), password, name: "A".repeat(101) },
			{ email: { $gt: "" }, password, name: "A" },
			{ password, name: "A" },
		];
		for (const body of cases) {
			const res = await post<ErrorBody>("/auth/register", body);
			expect(res.status).toBe(422);
			expect(JSON.stringify(res.body)).not.toContain("short");
		}
	});

	it("logs in with the same response shape, and answers a wrong password and an unknown email alike", async () => {
		const { user } = await register();
		const ok = await login(user.email);
		expect(ok.status).toBe(200);
		expect(ok.body).toMatchObject({ user: { id: user.id }, accessToken: expect.any(String), refreshToken: expect.any(String), expiresIn: 900 });

		const wrong = await login(user.email, "wrong password 123");
		const unknown = await login(newEmail(), "wrong password 123");
		expect(wrong.status).toBe(401);
		expect(unknown.status).toBe(401);
		expect(unknown.body).toEqual(wrong.body);
		expect(wrong.body).toMatchObject({ type: "INVALID_CREDENTIALS" });
	});

	it("pays for one password hash whether the email is unknown or the password wrong (no enumeration by timing)", async () => {
		const { user } = await register();
		const verify = jest.spyOn(passwords, "verifyPassword");
		try {
			await login(newEmail(), "wrong password 123");
			await login(user.email, "wrong password 123");
			// Equal work, so equal time: both refusals run exactly one scrypt comparison.
			expect(verify).toHaveBeenCalledTimes(2);
			expect(verify.mock.calls[0][1]).toBe(passwords.UNKNOWN_ACCOUNT_HASH);
			expect(verify.mock.calls[1][1]).toMatch(/^scrypt\$/);
		} finally {
			verify.mockRestore();
		}
	});

	it("refuses NoSQL operators in login fields", async () => {
		const { user } = await register();
		for (const body of [
			{ email: { $gt: "" }, password },
			{ email: user.email, password: { $ne: "" } },
			{ email: user.email, password: [password] },
		]) {
			expect((await post("/auth/login", body)).status).toBe(422);
		}
	});

	it("updates the customer's own name only", async () => {
		const { user, accessToken } = await register();
		const res = await request(api("/users/me"), {
			method: "PATCH",
			headers: bearer(accessToken),
			body: { name: "Renamed", roles: ["admin"], email: "evil@example.com" },
		});
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id: user.id, name: "Renamed", email: user.email, roles: ["customer"] });
	});

	it("refuses what the API fuzzing found slipping through: a null name, control characters in an email, a password short in characters", async () => {
		const { accessToken, user } = await register();
		const blank = await request<ErrorBody>(api("/users/me"), { method: "PATCH", headers: bearer(accessToken), body: { name: null } });
		expect([blank.status, blank.body.data]).toEqual([422, [expect.objectContaining({ field: "name" })]]);
		expect((await request(api("/users/me"), { headers: bearer(accessToken) })).body.name).toBe(user.name);
		const controlChars = await post<ErrorBody>("/auth/register", { email: "\u00fd\u00a1@u.\u000e\u00afn", password, name: "X" });
		expect([controlChars.status, controlChars.body.data]).toEqual([422, [expect.objectContaining({ field: "email" })]]);
		// Ten UTF-16 units, five characters: shorter than the ten-character minimum.
		const emoji = await post<ErrorBody>("/auth/register", { email: newEmail(), password: "🔑🔑🔑🔑🔑", name: "X" });
		expect([emoji.status, emoji.body.data]).toEqual([422, [expect.objectContaining({ field: "password", type: "stringMin" })]]);
		expect((await post("/auth/register", { email: newEmail(), password: "🔑".repeat(10), name: "X" })).status).toBe(201);
	});

	it("rotates refresh tokens: the old one is refused, and replaying it ends the whole session", async () => {
		const first = await register();
		const second = await post("/auth/refresh", { refreshToken: first.refreshToken });
		expect(second.status).toBe(200);
		expect(second.body.refreshToken).not.toBe(first.refreshToken);
		expect((await request(api("/users/me"), { headers: bearer(second.body.accessToken) })).status).toBe(200);

		const replay = await post<ErrorBody>("/auth/refresh", { refreshToken: first.refreshToken });
		expect(replay.status).toBe(401);
		// The thief's replay revoked the family: the legitimate new pair is dead too.
		expect((await post("/auth/refresh", { refreshToken: second.body.refreshToken })).status).toBe(401);
		expect((await request(api("/users/me"), { headers: bearer(second.body.accessToken) })).status).toBe(401);
	});

	it("logs out with 204 and revokes the session's refresh and access tokens at once", async () => {
		const session = await register();
		const other = await login(session.user.email);
		const res = await request(api("/auth/logout"), { method: "POST", body: { refreshToken: session.refreshToken } });
		expect(res.status).toBe(204);
		expect(res.body).toBeUndefined();
		expect((await post("/auth/refresh", { refreshToken: session.refreshToken })).status).toBe(401);
		expect((await request(api("/users/me"), { headers: bearer(session.accessToken) })).status).toBe(401);
		// Another session of the same user is untouched.
		expect((await request(api("/users/me"), { headers: bearer(other.body.accessToken) })).status).toBe(200);
		// Logging out an unknown token answers the same.
		expect((await request(api("/auth/logout"), { method: "POST", body: { refreshToken: "x".repeat(43) } })).status).toBe(204);
	});

	it("refuses missing, malformed, expired, foreign and unsigned access tokens with 401", async () => {
		const { user } = await register();
		const claims = { email: user.email, roles: ["admin"], sid: "s" };
		const base = { issuer: "moleculer-shop", audience: "moleculer-shop-api", subject: user.id };
		const forged = [
			"not-a-jwt",
			jwt.sign(claims, DEVELOPMENT_JWT_SECRET, { ...base, expiresIn: -10 }),
			jwt.sign(claims, "another-secret-another-secret-another", base),
			jwt.sign(claims, DEVELOPMENT_JWT_SECRET, { ...base, algorithm: "HS512" }),
			jwt.sign(claims, DEVELOPMENT_JWT_SECRET, { ...base, audience: "someone-else" }),
			jwt.sign(claims, null as unknown as string, { ...base, algorithm: "none" }),
		];
		for (const token of forged) {
			const res = await request<ErrorBody>(api("/users/me"), { headers: bearer(token) });
			expect([res.status, res.body.type]).toEqual([401, "INVALID_TOKEN"]);
		}
		expect((await request(api("/users/me"))).status).toBe(401);
		expect((await request(api("/users/me"), { headers: { authorization: "Basic YWRtaW46YWRtaW4=" } })).status).toBe(401);
	});

	it("lets the admin manage the catalog and list users, and refuses customers (403) and anonymous callers (401)", async () => {
		const admin = await login(DEVELOPMENT_ADMIN.email, DEVELOPMENT_ADMIN.password);
		expect(admin.body.user.roles).toContain("admin");
		const customer = await register();
		const product = { sku: "ADMIN-1", name: "Admin Lamp", price: 1999, category: "home" };

		expect((await request(api("/products"), { method: "POST", body: product })).status).toBe(401);
		expect((await request(api("/products"), { method: "POST", body: product, headers: bearer(customer.accessToken) })).status).toBe(403);
		const created = await request<Product>(api("/products"), { method: "POST", body: product, headers: bearer(admin.body.accessToken) });
		expect(created.status).toBe(201);
		expect(created.headers.get("location")).toBe(`/api/products/${created.body.id}`);

		const path = `/products/${created.body.id}`;
		expect((await request(api(path), { method: "PATCH", body: { price: 1 }, headers: bearer(customer.accessToken) })).status).toBe(403);
		expect((await request(api(path), { method: "DELETE", headers: bearer(customer.accessToken) })).status).toBe(403);
		// Found by the API fuzzing: null passed as "left out" and blanked the price; a null currency became the default.
		const blanked = await request<ErrorBody>(api(path), { method: "PATCH", body: { price: null, name: null }, headers: bearer(admin.body.accessToken) });
		expect([blanked.status, blanked.body.type]).toEqual([422, "VALIDATION_ERROR"]);
		expect((await request<Product>(api(path))).body.price).toBeGreaterThan(0);
		const nullCurrency = { sku: `NULL-${seq}-${Date.now() % 100000}`, name: "Null", price: 100, category: "toys", currency: null };
		expect((await request(api("/products"), { method: "POST", body: nullCurrency, headers: bearer(admin.body.accessToken) })).status).toBe(422);
		const updated = await request<Product>(api(path), { method: "PATCH", body: { price: 2499 }, headers: bearer(admin.body.accessToken) });
		expect([updated.status, updated.body.price]).toEqual([200, 2499]);
		expect((await request(api(path))).body.price).toBe(2499);
		expect((await request(api(path), { method: "DELETE", headers: bearer(admin.body.accessToken) })).status).toBe(204);
		expect((await request(api(path))).status).toBe(404);

		expect((await request(api("/users"), { headers: bearer(customer.accessToken) })).status).toBe(403);
		const users = await request(api("/users?pageSize=100"), { headers: bearer(admin.body.accessToken) });
		expect(users.status).toBe(200);
		expect(users.body).toMatchObject({ total: expect.any(Number), rows: expect.any(Array) });
		expect(JSON.stringify(users.body)).not.toMatch(/passwordHash|scrypt/);
	});
});

describe("identity throttling and secrecy", () => {
	let app: TestApp;
	const lines: string[] = [];
	beforeAll(async () => {
		for (const method of ["log", "warn", "error", "info", "debug"] as const) {
			jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
		}
		app = await startApp(allServices(), { AUTH_RATE_LIMIT: "3", LOGLEVEL: "debug" }, { logs: true });
	});
	afterAll(async () => {
		await app.stop();
		await new Promise(resolve => setTimeout(resolve, 700)); // moleculer-web's debounced log lines
		jest.restoreAllMocks();
	});

	it("slows down credential stuffing: past the limit an address answers 429 even to the right password", async () => {
		const email = `throttle.${Date.now()}@example.com`;
		const registered = await request(`${app.url}/api/auth/register`, { method: "POST", body: { email, password, name: "T" } });
		expect(registered.status).toBe(201);
		const statuses: number[] = [];
		for (const pw of ["wrong password 1", "wrong password 2", "wrong password 3", password]) {
			statuses.push((await request(`${app.url}/api/auth/login`, { method: "POST", body: { email, password: pw } })).status);
		}
		expect(statuses).toEqual([401, 401, 401, 429]);
	});

	it("never writes a password, hash, refresh token or secret to a response or a log line", async () => {
		const secretPassword = "Sup3r-Secret-Passphrase!";
		const reg = await request<AuthResult>(`${app.url}/api/auth/register`, {
			method: "POST",
			body: { email: `secret.${Date.now()}@example.com`, password: secretPassword, name: "S" },
			headers: { "x-forwarded-for": "10.9.9.9" },
		});
		await request(`${app.url}/api/auth/register`, { method: "POST", body: { email: "bad", password: secretPassword, name: "S" } });
		await request(`${app.url}/api/auth/register`, { method: "POST", body: { email: "short@example.com", password: "Tiny-pw", name: "S" } });
		await request(`${app.url}/api/auth/refresh`, { method: "POST", body: { refreshToken: reg.body.refreshToken } });
		await request(`${app.url}/api/auth/refresh`, { method: "POST", body: { refreshToken: reg.body.refreshToken } });
		const everything = [JSON.stringify(reg.body.user), ...lines].join("\n");
		expect(lines.length).toBeGreaterThan(0);
		for (const secret of [secretPassword, "Tiny-pw", reg.body.refreshToken, DEVELOPMENT_JWT_SECRET, "scrypt$"]) {
			expect(everything).not.toContain(secret);
		}
	});
});

// The users service is restarted here, so this runs on MongoDB only: in-memory
// NeDB would not keep the account across the restart.
describeWithServers(["mongo"], "identity during a users-service outage", () => {
	let app: TestApp;
	beforeAll(async () => {
		app = await startApp(allServices(), { MONGO_URI: `${serverUrls.mongo}/${uniqueName("outage")}`, AUTH_RATE_LIMIT: "1000" });
	});
	afterAll(() => app.stop());

	it("keeps a refresh token usable when the users service is briefly down (503, not a lost session)", async () => {
		const session = (
			await request<AuthResult>(`${app.url}/api/auth/register`, {
				method: "POST",
				body: { email: `outage.${Date.now()}@example.com`, password, name: "O" },
			})
		).body;
		const users = app.broker.getLocalService("users")!;
		await app.broker.destroyService(users);
		try {
			const during = await request<ErrorBody>(`${app.url}/api/auth/refresh`, { method: "POST", body: { refreshToken: session.refreshToken } });
			expect(during.status).toBe(503);
		} finally {
			app.broker.createService(UsersService); // a running broker starts it
			await app.broker.waitForServices(["users"], 10_000);
		}
		const after = await request(`${app.url}/api/auth/refresh`, { method: "POST", body: { refreshToken: session.refreshToken } });
		expect(after.status).toBe(200);
	});
});
