// What breaks: the MongoDB server dies under a running app.
// What must hold: readiness says so, reads fail fast with a clear 503 (cached
// pages still served), and the app recovers by itself when the server returns.
import { allServices, startApp, uniqueName, type TestApp } from "../support/app";
import { request } from "../support/http";
import { describeWithServers, serverUrls } from "../support/servers";
import { startServer, stopServer } from "../support/infra";
import { eventually } from "../support/wait";

describeWithServers(["mongo"], "MongoDB outage", () => {
	let app: TestApp;
	beforeAll(async () => {
		app = await startApp(allServices(), { MONGO_URI: `${serverUrls.mongo}/${uniqueName("outage")}` });
	});
	afterAll(async () => {
		startServer("mongo");
		await app.stop();
	});

	it("goes unready and answers 503 DATABASE_UNAVAILABLE while the database is down, then recovers", async () => {
		expect((await request(`${app.url}/api/products?page=1`)).status).toBe(200);
		stopServer("mongo");

		const ready = await request(`${app.url}/health/ready`);
		expect(ready.status).toBe(503);
		expect(ready.body).toMatchObject({ status: "unavailable", checks: { database: { ok: false } } });

		const uncached = await request(`${app.url}/api/products?page=2`);
		expect(uncached.status).toBe(503);
		expect(uncached.body).toMatchObject({ code: 503, type: "DATABASE_UNAVAILABLE" });

		// A page read before the outage is still served from the cache.
		expect((await request(`${app.url}/api/products?page=1`)).status).toBe(200);

		startServer("mongo");
		const recovered = await eventually(
			() => request(`${app.url}/health/ready`),
			res => res.status === 200,
		);
		expect(recovered.status).toBe(200);
		const after = await eventually(
			() => request(`${app.url}/api/products?page=2`),
			res => res.status === 200,
		);
		expect(after.body).toMatchObject({ page: 2, total: 60 });
	});
});
