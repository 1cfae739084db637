// A Jaeger of a test's own, for tests that kill it (the shared one of
// scripts/infra.sh must not be disturbed): the binary scripts/infra.sh builds,
// on deploy/jaeger/config.yaml with five free ports. Its store is in memory,
// so a restart comes back empty.
import { existsSync } from "node:fs";
import path from "node:path";
import { freePort } from "./cluster";
import { ServerProcess } from "./server-process";

const ROOT = path.join(__dirname, "../..");
const binary = path.join(ROOT, ".infra/bin/jaeger");
/** Built by `scripts/infra.sh up` (or `start jaeger`). */
export const jaegerBinary = existsSync(binary) ? binary : undefined;

export class JaegerServer extends ServerProcess {
	private constructor(
		readonly queryPort: number,
		readonly zipkinPort: number,
		grpcPorts: { query: number; otlp: number },
		otlpHttpPort: number,
	) {
		super(binary, ["--config", path.join(ROOT, "deploy/jaeger/config.yaml")], "Everything is ready", {
			JAEGER_LISTEN_HOST: "127.0.0.1",
			JAEGER_QUERY_PORT: String(queryPort),
			JAEGER_QUERY_GRPC_PORT: String(grpcPorts.query),
			JAEGER_ZIPKIN_PORT: String(zipkinPort),
			JAEGER_OTLP_GRPC_PORT: String(grpcPorts.otlp),
			JAEGER_OTLP_HTTP_PORT: String(otlpHttpPort),
		});
	}

	static async start(): Promise<JaegerServer> {
		const [query, zipkin, queryGrpc, otlpGrpc, otlpHttp] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
		const server = new JaegerServer(query, zipkin, { query: queryGrpc, otlp: otlpGrpc }, otlpHttp);
		await server.restart();
		return server;
	}

	/** Its query API, where tests read traces back. */
	get queryUrl(): string {
		return `http://127.0.0.1:${this.queryPort}`;
	}

	/** Its Zipkin receiver, the nodes' TRACING_URL. */
	get zipkinUrl(): string {
		return `http://127.0.0.1:${this.zipkinPort}`;
	}
}
