// Probes for nodes without a gateway: the same readiness on HEALTH_PORT,
// listening where MONITORING_HOST says (loopback by default).
import ProductsService from "../../services/products/products.service";
import { startApp } from "../support/app";
import { freePort } from "../support/cluster";
import { request } from "../support/http";
import { eventually } from "../support/wait";

describe("node health endpoint", () => {
	it("answers live and ready on HEALTH_PORT, and unready once the node is stopping", async () => {
		const port = await freePort();
		const app = await startApp([ProductsService], { HEALTH_PORT: String(port) });
		const base = `http://127.0.0.1:${port}`;
		try {
			expect((await request(`${base}/health/live`)).status).toBe(200);
			const ready = await request(`${base}/health/ready`);
			expect(ready.status).toBe(200);
			expect(ready.body.checks).toMatchObject({ services: { ok: true }, database: { ok: true } });
			(app.broker as unknown as { stopping: boolean }).stopping = true;
			expect((await request(`${base}/health/ready`)).status).toBe(503);
			(app.broker as unknown as { stopping: boolean }).stopping = false;
		} finally {
			await app.stop();
		}
		await expect(fetch(`${base}/health/live`)).rejects.toThrow();
	});

	it("tells nobody the node id or the databases, and carries the security headers", async () => {
		const port = await freePort();
		const app = await startApp([ProductsService], { HEALTH_PORT: String(port) });
		try {
			const res = await request(`http://127.0.0.1:${port}/health/ready`);
			expect(JSON.stringify(res.body)).not.toMatch(new RegExp(`${app.broker.nodeID}|products`));
			expect(res.headers.get("x-content-type-options")).toBe("nosniff");
			expect(res.headers.get("x-frame-options")).toBe("DENY");
		} finally {
			await app.stop();
		}
	});

	it("listens on loopback only unless MONITORING_HOST opens it, metrics included", async () => {
		const [health, metrics] = [await freePort(), await freePort()];
		const local = await startApp([ProductsService], { HEALTH_PORT: String(health), METRICS_PORT: String(metrics) });
		const address = (server: { address(): unknown }) => (server.address() as { address: string }).address;
		try {
			const reporter = (local.broker.metrics as unknown as { reporter: { server: { address(): unknown } }[] }).reporter[0];
			expect(address(reporter.server)).toBe("127.0.0.1");
			expect((await request(`http://127.0.0.1:${health}/health/live`)).status).toBe(200);
			// Process and OS metrics arrive with the first collection (every 5 s).
			const text = await eventually(
				async () => (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text(),
				body => body.includes("os_hostname"),
				20_000,
			);
			// The command line, the user and the network interfaces stay out of the export.
			expect(text).not.toMatch(/process_arguments|os_user_|os_network_/);
		} finally {
			await local.stop();
		}
		const open = await startApp([ProductsService], { HEALTH_PORT: String(health), METRICS_PORT: String(metrics), MONITORING_HOST: "0.0.0.0" });
		try {
			const reporter = (open.broker.metrics as unknown as { reporter: { server: { address(): unknown } }[] }).reporter[0];
			expect(address(reporter.server)).toBe("0.0.0.0");
		} finally {
			await open.stop();
		}
	});
});
