// moleculer-runner (how every node starts) copies env vars over broker options
// of the same name; the options built from them must survive the copy.
import { Runner } from "moleculer";
import { brokerConfig } from "../../moleculer.config";
import { readEnv } from "../../lib/platform/env";
import { ResilientRedisCacher } from "../../lib/platform/resilient-redis-cacher";
import { ZipkinExporter } from "../../lib/platform/zipkin-exporter";
import { setEnv } from "../support/app";

describe("broker options under moleculer-runner", () => {
	it("keeps the transporter, cacher and tracing exporter built from TRANSPORTER, CACHER and TRACING_EXPORTER", () => {
		const vars = {
			TRANSPORTER: "nats://127.0.0.1:4222",
			CACHER: "redis://127.0.0.1:6379",
			TRACING_EXPORTER: "Zipkin",
			TRACING_URL: "http://jaeger:9411",
			NAMESPACE: "shop",
		};
		const restore = setEnv(vars);
		try {
			const config = brokerConfig(readEnv());
			const built = JSON.stringify([config.transporter, config.cacher, config.tracing]);
			// The runner's own step, as it runs before creating the broker.
			(new Runner() as unknown as { overwriteFromEnv(config: object): object }).overwriteFromEnv(config);
			expect(JSON.stringify([config.transporter, config.cacher, config.tracing])).toBe(built);
			expect(config.cacher).toBeInstanceOf(ResilientRedisCacher);
			expect(config.cacher).toMatchObject({ opts: { prefix: "shop-cache", ttl: 300 } });
			const exporters = (config.tracing as { exporter?: unknown[] }).exporter;
			expect(exporters).toEqual([expect.any(ZipkinExporter)]);
			expect(exporters![0]).toMatchObject({ opts: { baseURL: "http://jaeger:9411" } });
		} finally {
			restore();
		}
	});
});
