// Identity on a real cluster: two gateways and two identity nodes (auth, users)
// as separate processes over NATS, sharing Redis and the MongoDB server.
// What must hold: one account per email however registrations race across
// nodes, revocation seen by every gateway at once, and login throttling
// counted across gateways.
import { uniqueName } from "../support/app";
import { Cluster, freePort, waitFor } from "../support/cluster";
import { request } from "../support/http";
import { clusterEnv, describeWithServers } from "../support/servers";
import type { AuthResult } from "../../lib/contract/contract";

const password = "correct horse battery staple";

describeWithServers(["nats", "redis", "mongo"], "identity cluster", () => {
	const namespace = uniqueName("id");
	const cluster = new Cluster(
		clusterEnv(namespace, {
			AUTH_RATE_LIMIT: "6",
			// As behind a load balancer: the gateways believe X-Forwarded-For from it.
			TRUSTED_PROXIES: "127.0.0.1",
		}),
	);
	let client = 0;
	/** A distinct client address per request, so only per-account limits apply. */
	const from = () => ({ "x-forwarded-for": `198.51.100.${++client}` });
	let gateways: string[] = [];

	beforeAll(async () => {
		const ports = await Promise.all([freePort(), freePort()]);
		ports.forEach((port, i) => cluster.start(`gateway${i + 1}`, "api", { PORT: String(port) }));
		cluster.start("identity1", "auth,users");
		cluster.start("identity2", "auth,users");
		gateways = ports.map(port => `http://127.0.0.1:${port}`);
		for (const url of gateways) {
			// Each probe is a fresh client and account, so a slow start spends no one's login budget.
			await waitFor(
				async () =>
					(await request(`${url}/api/auth/login`, { method: "POST", body: { email: `probe.${client}@example.com`, password }, headers: from() }))
						.status === 401,
				60_000,
				() => cluster.logs(),
			);
		}
	});
	afterAll(() => cluster.stopAll());

	it("creates exactly one account when the same email registers through both gateways at once", async () => {
		const email = `race.${Date.now()}@example.com`;
		const attempts = await Promise.all(
			Array.from({ length: 8 }, (_, i) =>
				request(`${gateways[i % 2]}/api/auth/register`, { method: "POST", body: { email, password, name: "Race" }, headers: from() }),
			),
		);
		expect(attempts.map(r => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
	});

	it("refuses a logged-out session's access token on the other gateway at once", async () => {
		const email = `logout.${Date.now()}@example.com`;
		const session = (
			await request<AuthResult>(`${gateways[0]}/api/auth/register`, { method: "POST", body: { email, password, name: "L" }, headers: from() })
		).body;
		const headers = { authorization: `Bearer ${session.accessToken}` };
		for (const url of gateways) expect((await request(`${url}/api/users/me`, { headers })).status).toBe(200); // now cached
		expect(
			(await request(`${gateways[0]}/api/auth/logout`, { method: "POST", body: { refreshToken: session.refreshToken }, headers: from() })).status,
		).toBe(204);
		for (const url of gateways) expect((await request(`${url}/api/users/me`, { headers })).status).toBe(401);
	});

	it("counts one address's failed logins on an account across both gateways, and never locks the owner out", async () => {
		const email = `stuffing.${Date.now()}@example.com`;
		expect((await request(`${gateways[1]}/api/auth/register`, { method: "POST", body: { email, password, name: "S" }, headers: from() })).status).toBe(201);
		const attacker = from();
		const statuses: number[] = [];
		for (let i = 0; i < 8; i++) {
			statuses.push(
				(await request(`${gateways[i % 2]}/api/auth/login`, { method: "POST", body: { email, password: `guess number ${i}` }, headers: attacker }))
					.status,
			);
		}
		expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
		expect(statuses.slice(6)).toEqual([429, 429]);
		// The owner, from an address of their own, through either gateway.
		for (const url of gateways)
			expect((await request(`${url}/api/auth/login`, { method: "POST", body: { email, password }, headers: from() })).status).toBe(200);
	});
});
