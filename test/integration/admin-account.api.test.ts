// The admin account named by ADMIN_EMAIL across restarts: created when absent,
// never handed to whoever registered that address first. Runs on NeDB files
// (NODE_ENV=development), so accounts survive the restart.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startApp, type EnvOverrides, type TestApp } from "../support/app";
import { request } from "../support/http";
import { DEVELOPMENT_ADMIN } from "../../lib/platform/env";
import ApiService from "../../services/api/api.service";
import AuthService from "../../services/auth/auth.service";
import UsersService from "../../services/users/users.service";
import type { AuthResult } from "../../lib/contract/contract";

describe("the admin account across restarts", () => {
	let dataDir: string;
	const lines: string[] = [];
	const configured = { ADMIN_EMAIL: "ops@example.com", ADMIN_PASSWORD: "the-operators-password" };

	/** The identity part of the app on the same data files, its log lines collected. */
	const boot = (env: EnvOverrides = {}): Promise<TestApp> =>
		startApp(
			[ApiService, AuthService, UsersService],
			{
				NODE_ENV: "development",
				DATA_DIR: dataDir,
				METRICS_PORT: "off",
				AUTH_RATE_LIMIT: "1000",
				ADMIN_EMAIL: undefined,
				ADMIN_PASSWORD: undefined,
				...env,
			},
			{ logs: true },
		);
	const login = (app: TestApp, email: string, password: string) =>
		request<AuthResult>(`${app.url}/api/auth/login`, { method: "POST", body: { email, password } });

	beforeAll(() => {
		dataDir = mkdtempSync(path.join(tmpdir(), "admin-account-"));
		for (const method of ["log", "warn", "error", "info"] as const) {
			jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
		}
	});
	afterAll(() => {
		jest.restoreAllMocks();
		rmSync(dataDir, { recursive: true, force: true });
	});

	it("never promotes an account registered under ADMIN_EMAIL before the admin existed, and says so in an ERROR", async () => {
		const first = await boot();
		try {
			const squatter = await request(`${first.url}/api/auth/register`, {
				method: "POST",
				body: { email: "OPS@example.com", password: "attackers-password", name: "Eve" },
			});
			expect(squatter.status).toBe(201);
		} finally {
			await first.stop();
		}

		lines.length = 0;
		const restarted = await boot(configured);
		try {
			const eve = await login(restarted, "ops@example.com", "attackers-password");
			expect(eve.status).toBe(200);
			expect(eve.body.user.roles).toEqual(["customer"]);
			expect((await request(`${restarted.url}/api/users`, { headers: { authorization: `Bearer ${eve.body.accessToken}` } })).status).toBe(403);
			// The configured password does not open the squatter's account either.
			expect((await login(restarted, configured.ADMIN_EMAIL, configured.ADMIN_PASSWORD)).status).toBe(401);
			expect(lines.find(line => line.includes("ADMIN_EMAIL ops@example.com") && line.includes("NOT promoted"))).toMatch(/ERROR/);
		} finally {
			await restarted.stop();
		}
	});

	it("keeps an existing admin working across restarts, with the password it has", async () => {
		const fresh = { ADMIN_EMAIL: "chief@example.com", ADMIN_PASSWORD: "chief-password-123" };
		for (let start = 0; start < 2; start++) {
			lines.length = 0;
			const app = await boot(fresh);
			try {
				const admin = await login(app, fresh.ADMIN_EMAIL, fresh.ADMIN_PASSWORD);
				expect([admin.status, admin.body.user.roles]).toEqual([200, ["admin"]]);
				expect((await request(`${app.url}/api/users`, { headers: { authorization: `Bearer ${admin.body.accessToken}` } })).status).toBe(200);
				// The development admin made by the first start is still an admin too.
				expect((await login(app, DEVELOPMENT_ADMIN.email, DEVELOPMENT_ADMIN.password)).body.user.roles).toEqual(["admin"]);
				expect(lines.filter(line => line.includes("NOT promoted"))).toEqual([]);
			} finally {
				await app.stop();
			}
		}
	});
});
