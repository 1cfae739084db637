// HTTP load from a separate process (bench/http-load.ts runs autocannon).
import { measure } from "./processes";

export interface HttpResult {
	rps: number;
	p50: number;
	p99: number;
	errors: number;
	non2xx: number;
	/** Requests answered in the run. */
	requests: number;
	/** CPU µs the load generator itself used. */
	loadCpuMicros: number;
}

export interface LoadOptions {
	url: string;
	connections: number;
	seconds: number;
	/** A query parameter made unique per request (defeats caches). */
	uniqueQuery?: string;
	headers?: Record<string, string>;
}

export function httpLoad(options: LoadOptions): Promise<HttpResult> {
	return measure<HttpResult>("bench/http-load.ts", {
		BENCH_URL: options.url,
		BENCH_CONNECTIONS: String(options.connections),
		BENCH_SECONDS: String(options.seconds),
		...(options.uniqueQuery && { BENCH_UNIQUE_QUERY: options.uniqueQuery }),
		...(options.headers && { BENCH_HEADERS: JSON.stringify(options.headers) }),
	});
}
