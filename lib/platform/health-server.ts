// /health/live and /health/ready on HEALTH_PORT for every node, gateway or
// not, so container and Kubernetes probes work the same for each node type.
import http from "node:http";
import type { ServiceBroker } from "moleculer";
import { nodeReadiness, readinessStatusCode } from "./readiness";
import { setSecurityHeaders } from "./security-headers";

/** `host` is MONITORING_HOST: loopback unless the operator opens it (containers do). */
export function startHealthServer(broker: ServiceBroker, port: number, host: string): Promise<http.Server> {
	const server = http.createServer(async (req, res) => {
		setSecurityHeaders(res);
		const reply = (status: number, body: unknown) => {
			res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
			res.end(JSON.stringify(body));
		};
		if (req.method !== "GET") return reply(405, { message: "Method not allowed" });
		if (req.url === "/health/live") return reply(200, { status: "ok" });
		if (req.url === "/health/ready") {
			const report = await nodeReadiness(broker);
			return reply(readinessStatusCode(report), report);
		}
		reply(404, { message: "Not found" });
	});
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, host, () => resolve(server));
	});
}
