// The Prometheus of scripts/infra.sh, as an operator uses it: the nodes a test
// starts are listed in a targets file (file-based discovery, as in
// deploy/prometheus/local.yml), and PromQL goes through its HTTP API.
import { renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ClusterNode } from "./cluster";
import { serverUrls } from "./servers";

const TARGETS_DIR = process.env.TEST_PROMETHEUS_TARGETS ?? path.join(__dirname, "../../.infra/prometheus/targets");

export interface Sample {
	metric: Record<string, string>;
	value: number;
}

/** A node's type from its name: catalog-2 is a catalog node. */
export const nodeTypeOf = (name: string) => name.replace(/-\d+$/, "");

/** Has Prometheus scrape `nodes` (those serving /metrics), labelled with their type (catalog-2 is a catalog node); returns the instance of each. */
export function scrapeNodes(file: string, nodes: readonly ClusterNode[]): { instances: Record<string, string>; remove(): void } {
	const targetsFile = path.join(TARGETS_DIR, `${file}.json`);
	const scraped = nodes.filter(node => node.metricsPort != null);
	const instances = Object.fromEntries(scraped.map(node => [node.name, `127.0.0.1:${node.metricsPort}`]));
	const groups = scraped.map(node => ({ targets: [instances[node.name]], labels: { node_type: nodeTypeOf(node.name) } }));
	// Written whole under another name, then renamed: Prometheus never reads half a file.
	writeFileSync(`${targetsFile}.tmp`, JSON.stringify(groups));
	renameSync(`${targetsFile}.tmp`, targetsFile);
	return { instances, remove: () => rmSync(targetsFile, { force: true }) };
}

/** One call of Prometheus's query API; a query it refuses (a syntax error, an unknown function) throws with its message. */
async function queryApi<T>(endpoint: "query" | "query_range", params: Record<string, string>): Promise<T> {
	const res = await fetch(`${serverUrls.prometheus}/api/v1/${endpoint}?${new URLSearchParams(params)}`);
	const body = (await res.json()) as { status: string; error?: string; data?: T };
	if (body.status !== "success") throw new Error(`Prometheus refused ${params.query}: ${body.error}`);
	return body.data!;
}

/** An instant query. */
export async function query(promql: string): Promise<Sample[]> {
	const data = await queryApi<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>("query", { query: promql });
	if (data.resultType !== "vector") throw new Error(`${promql} is a ${data.resultType}, not an instant vector`);
	return data.result.map(({ metric, value }) => ({ metric, value: Number(value[1]) }));
}

/** What a dashboard panel draws: the series `promql` has over the last `seconds`, at Grafana's usual resolution. */
export async function queryRange(promql: string, seconds: number, stepSeconds = 2): Promise<Record<string, string>[]> {
	const end = Date.now() / 1000;
	const params = { query: promql, start: String(end - seconds), end: String(end), step: String(stepSeconds) };
	return (await queryApi<{ result: { metric: Record<string, string> }[] }>("query_range", params)).result.map(series => series.metric);
}

export interface Alert {
	labels: Record<string, string>;
	state: "pending" | "firing";
}

/** The alerts Prometheus has pending or firing now. */
export async function activeAlerts(): Promise<Alert[]> {
	const res = await fetch(`${serverUrls.prometheus}/api/v1/alerts`);
	return ((await res.json()) as { data: { alerts: Alert[] } }).data.alerts;
}
