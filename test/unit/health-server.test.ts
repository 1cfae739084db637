// Probes for nodes without a gateway: the same readiness on HEALTH_PORT.
import ProductsService from "../../services/products.service";
import { startApp } from "../support/app";
import { freePort } from "../support/cluster";
import { request } from "../support/http";

describe("node health endpoint", () => {
	it("answers live and ready on HEALTH_PORT, and unready once the node is stopping", async () => {
		const port = await freePort();
		const app = await startApp([ProductsService], { HEALTH_PORT: String(port) });
		const base = `http://127.0.0.1:${port}`;
		try {
			expect((await request(`${base}/health/live`)).status).toBe(200);
			const ready = await request(`${base}/health/ready`);
			expect(ready.status).toBe(200);
			expect(ready.body.checks).toMatchObject({ services: { ok: true }, "database:products": { ok: true } });
			(app.broker as unknown as { stopping: boolean }).stopping = true;
			expect((await request(`${base}/health/ready`)).status).toBe(503);
			(app.broker as unknown as { stopping: boolean }).stopping = false;
		} finally {
			await app.stop();
		}
		await expect(fetch(`${base}/health/live`)).rejects.toThrow();
	});
});
