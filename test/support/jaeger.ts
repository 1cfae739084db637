// Traces read back from Jaeger through its query API (/api/traces), the way
// its UI reads them: spans as Jaeger stored them after the nodes' exporters
// sent them out.
import { request } from "./http";
import { jaegerUrls } from "./servers";

/** The exporter docker-compose.yml gives every node (test/unit/deploy-files.test.ts holds it to this). */
export const TRACING_EXPORTER = "Zipkin";

export interface JaegerSpan {
	traceID: string;
	spanID: string;
	operationName: string;
	references: { refType: string; traceID: string; spanID: string }[];
	tags: { key: string; type: string; value: unknown }[];
	processID: string;
}

export interface JaegerTrace {
	traceID: string;
	spans: JaegerSpan[];
	processes: Record<string, { serviceName: string }>;
}

async function traces(query: Record<string, string>, base = jaegerUrls.query): Promise<JaegerTrace[]> {
	const res = await request<{ data: JaegerTrace[] | null }>(`${base}/api/traces?${new URLSearchParams(query)}`);
	if (res.status !== 200) throw new Error(`Jaeger answered ${res.status}: ${JSON.stringify(res.body)}`);
	return res.body.data ?? [];
}

/** Traces with a span of `service` carrying every tag of `tags` (exact values), in the Jaeger whose query API is at `base`. */
export function findTraces(service: string, tags: Record<string, string>, base = jaegerUrls.query): Promise<JaegerTrace[]> {
	return traces({ service, tags: JSON.stringify(tags) }, base);
}

/** The traces of `service` that started since `sinceMs` (epoch ms), up to `limit`. */
export function tracesSince(service: string, sinceMs: number, limit = 1000): Promise<JaegerTrace[]> {
	return traces({ service, start: String(sinceMs * 1000), limit: String(limit) });
}

export async function services(): Promise<string[]> {
	return (await request<{ data: string[] | null }>(`${jaegerUrls.query}/api/services`)).body.data ?? [];
}

export function tag(span: JaegerSpan, key: string): unknown {
	return span.tags.find(t => t.key === key)?.value;
}

export function serviceOf(trace: JaegerTrace, span: JaegerSpan): string {
	return trace.processes[span.processID].serviceName;
}
