// Production log lines carry the request id of the action that logged them.
import { ServiceBroker, type Context } from "moleculer";
import { brokerConfig } from "../../moleculer.config";
import { readEnv } from "../../lib/platform/env";
import { jsonWithRequestId, RequestLoggingMiddleware } from "../../lib/platform/request-logging";

describe("request logging", () => {
	const lines: string[] = [];
	let broker: ServiceBroker;
	beforeAll(async () => {
		for (const method of ["log", "info", "warn", "error"] as const) {
			jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
		}
		broker = new ServiceBroker({
			nodeID: "log-test",
			logger: { type: "Console", options: { formatter: jsonWithRequestId } },
			logLevel: "info",
			middlewares: [RequestLoggingMiddleware()],
		});
		broker.createService({
			name: "shop",
			actions: {
				async work(this: { logger: { info(msg: string): void } }, ctx: Context) {
					await new Promise(resolve => setTimeout(resolve, 5)); // across an await, too
					this.logger.info(`working for ${String(ctx.params)}`);
					return ctx.call("shop.nested");
				},
				nested(this: { logger: { warn(msg: string): void } }) {
					this.logger.warn("nested step");
				},
			},
		});
		await broker.start();
	});
	afterAll(async () => {
		await broker.stop();
		jest.restoreAllMocks();
	});

	it("adds the request id and node id to every line logged inside an action, nested calls included", async () => {
		await broker.call("shop.work", "ann", { requestID: "req-42" });
		const logged = lines.map(line => JSON.parse(line) as Record<string, unknown>);
		expect(logged.find(line => line.msg === "working for ann")).toMatchObject({ level: "info", requestID: "req-42", nodeID: "log-test", svc: "shop" });
		expect(logged.find(line => line.msg === "nested step")).toMatchObject({ level: "warn", requestID: "req-42" });
		// Lines outside any request have none.
		expect(logged.find(line => String(line.msg).includes("started successfully"))).not.toHaveProperty("requestID");
	});

	it("is the format of production nodes", () => {
		const config = brokerConfig(
			readEnv({
				NODE_ENV: "production",
				JWT_SECRET: "x".repeat(40),
				ADMIN_EMAIL: "ops@example.com",
				ADMIN_PASSWORD: "a long admin password",
				SHIPPING_WEBHOOK_SECRET: "y".repeat(40),
			}),
		);
		expect(config.logger).toMatchObject({ options: { formatter: jsonWithRequestId } });
		const names = (options: { middlewares?: unknown[] }) => (options.middlewares ?? []).map(mw => (mw as { name?: string }).name);
		expect(names(config)).toContain("RequestLogging");
		// Elsewhere no formatter reads the id, so no action pays for keeping it.
		expect(names(brokerConfig(readEnv({ NODE_ENV: "development" })))).not.toContain("RequestLogging");
	});
});
