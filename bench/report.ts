// The benchmark's outputs: a JSON file for machines, a Markdown report with an
// SVG chart for people, and the ratios on the console.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { HttpResult } from "./load";
import type { CheckoutResult } from "./checkout";
import { checkoutTable, windowTable, workDetail } from "./checkout-report";

export interface CallResult {
	callsPerSecond: number;
	p50: number;
	p99: number;
}

export interface Ratio {
	name: string;
	value: number;
	/** The goal for this ratio, when there is one. */
	target?: number;
	note?: string;
}

export interface BenchResults {
	date: string;
	quick: boolean;
	machine: { cpus: number; node: string };
	http: Record<string, HttpResult>;
	calls: Record<string, CallResult>;
	/** Per HTTP scenario: CPU µs per request of each process that served it, the load generator and the total. */
	httpCpu: Record<string, Record<string, number>>;
	/** Checkout runs: embedded and cluster, 20 and 100 shoppers. */
	checkout: CheckoutResult[];
	/** Full runs: 5 minutes on the cluster, in 30 s windows. */
	longCheckout?: CheckoutResult;
	/** Heap after a full collection, once warmed up and at the end. */
	soak: {
		seconds: number;
		warmUpSeconds: number;
		sampleSeconds: number;
		/** Per node, sampled every sampleSeconds after the warm-up: heap used and RSS after a full GC, and the heap's growth from first to last. */
		nodes: Record<string, { heapMb: number[]; rssMb: number[]; growth: number }>;
	};
	ratios: Ratio[];
}

const RESULTS = path.join(__dirname, "results");

function svgChart(http: Record<string, HttpResult>): string {
	const rows = Object.entries(http);
	const max = Math.max(...rows.map(([, r]) => r.rps), 1);
	const bar = (i: number, [name, r]: [string, HttpResult]) => {
		const width = Math.round((r.rps / max) * 420);
		const y = 10 + i * 28;
		return `<text x="0" y="${y + 14}" font-size="12">${name}</text><rect x="190" y="${y}" width="${width}" height="18" fill="#4a7bd0"/><text x="${196 + width}" y="${y + 14}" font-size="12">${Math.round(r.rps)} req/s</text>`;
	};
	return `<svg xmlns="http://www.w3.org/2000/svg" width="720" height="${20 + rows.length * 28}" font-family="sans-serif">${rows.map((row, i) => bar(i, row)).join("")}</svg>\n`;
}

function ratioLine(r: Ratio): string {
	const verdict = r.target == null ? "" : r.value >= r.target ? "met" : `**not met** (${((1 - r.value / r.target) * 100).toFixed(0)} % short)`;
	return `| ${r.name} | ${r.value.toFixed(2)} | ${r.target ?? ""} | ${verdict} | ${r.note ?? ""} |`;
}

/** "total 412: gateway 215, worker 79, ..." with the biggest first. */
export function cpuBreakdown(cpu: Record<string, number>, scale = 1, digits = 0): string {
	const { total, ...parts } = cpu;
	const listed = Object.entries(parts)
		.sort((a, b) => b[1] - a[1])
		.map(([name, value]) => `${name} ${(value / scale).toFixed(digits)}`);
	return `${(total / scale).toFixed(digits)} (${listed.join(", ")})`;
}

const README = path.join(__dirname, "..", "README.md");
const HEADLINE = /(<!-- bench:headline -->\n)[\s\S]*?(<!-- \/bench:headline -->)/;

/** The README's copy of the run's headline, between its bench:headline markers, so it never goes stale. */
function updateReadmeHeadline(results: BenchResults): void {
	const readme = readFileSync(README, "utf8");
	if (!HEADLINE.test(readme)) return;
	const c = results.checkout.find(run => run.mode === "cluster" && run.shoppers === 20)!;
	const headline = `${results.date.slice(0, 10)}, ${results.machine.cpus} cores, Node ${results.machine.node}, ${results.quick ? "quick mode" : "median of 3 runs"}:

| ratio | value | target | |
|---|---|---|---|
${results.ratios
	.filter(r => r.target != null)
	.map(r => ratioLine(r).split(" | ").slice(0, 4).join(" | ") + " |")
	.join("\n")}

| scenario | req/s | p99 ms |
|---|---|---|
${Object.entries(results.http)
	.map(([name, r]) => `| ${name} | ${Math.round(r.rps)} | ${r.p99} |`)
	.join("\n")}

Checkout on the cluster: ${c.ordersPerSecond.toFixed(1)} orders/s, p99 ${c.p99.toFixed(0)} ms, ${c.errors} errors.
`;
	writeFileSync(
		README,
		readme.replace(HEADLINE, (_, open: string, close: string) => `${open}${headline}${close}`),
	);
}

export function writeReport(results: BenchResults): void {
	mkdirSync(RESULTS, { recursive: true });
	writeFileSync(path.join(RESULTS, "latest.json"), JSON.stringify(results, null, 2) + "\n");
	writeFileSync(path.join(RESULTS, "throughput.svg"), svgChart(results.http));
	const http = Object.entries(results.http).map(([name, r]) => `| ${name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} |`);
	const cpu = Object.entries(results.httpCpu).map(([name, c]) => `| ${name} | ${cpuBreakdown(c)} |`);
	const calls = Object.entries(results.calls).map(([name, r]) => `| ${name} | ${Math.round(r.callsPerSecond)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`);
	const mb = (values: number[]) => values.map(v => v.toFixed(1)).join(" ");
	const soak = Object.entries(results.soak.nodes).map(
		([node, m]) => `| ${node} | ${mb(m.heapMb)} | ${(m.growth * 100).toFixed(1)} % | ${mb([m.rssMb[0], m.rssMb[m.rssMb.length - 1]])} |`,
	);
	const clusterRun = results.checkout.find(run => run.mode === "cluster" && run.shoppers === 20)!;
	const long = results.longCheckout;
	const md = `# Benchmark report

${results.date}, ${results.machine.cpus} cores, Node ${results.machine.node}, ${results.quick ? "quick mode (one short run each)" : "median of 3 runs"}.
Produced by \`npm run bench${results.quick ? " -- --quick" : ""}\`; raw numbers in \`bench/results/latest.json\`.

## Ratios

| ratio | value | target | | note |
|---|---|---|---|---|
${results.ratios.map(ratioLine).join("\n")}

## HTTP (50 connections, ~1 KB JSON)

![throughput](results/throughput.svg)

| scenario | req/s | p50 ms | p99 ms | answers not 2xx (304s, refusals) | errors |
|---|---|---|---|---|---|
${http.join("\n")}

CPU time per request, by process (µs, from \`/proc\`; steadier than req/s on shared cores):

| scenario | total (by process) |
|---|---|
${cpu.join("\n")}

## Broker calls without HTTP

| scenario | calls/s | p50 ms | p99 ms |
|---|---|---|---|
${calls.join("\n")}

## Checkout: what one order costs

Shoppers each add an item to the cart and check out, in a loop, through the
gateway. The cluster is the README's (gateway, catalog, identity and commerce
nodes on real NATS, Redis and the MongoDB stand-in); embedded is every service
in one process on NeDB files. CPU from \`/proc\` per process, database commands
from the driver's command monitoring (NeDB: the adapter's operations), actions
run and channel messages from a broker middleware on every node.

${checkoutTable(results.checkout)}

Work per order on the cluster, 20 shoppers:
${workDetail(clusterRun)}
${
	long
		? `
### ${long.seconds.toFixed(0)} s on the cluster, 20 shoppers: does an order cost more as orders pile up?

${long.orders} orders placed (${long.errors} errors), p99 ${long.p99.toFixed(0)} ms.

${windowTable(long)}
`
		: ""
}
## Soak (${results.soak.seconds} s of mixed traffic): memory per node after a full GC

Sampled every ${results.soak.sampleSeconds} s after a ${results.soak.warmUpSeconds} s warm-up.

| node | heap used, MB | heap growth | RSS first, last, MB |
|---|---|---|---|
${soak.join("\n")}
`;
	writeFileSync(path.join(__dirname, "REPORT.md"), md);
	updateReadmeHeadline(results);
	console.log("\nRatios:");
	for (const r of results.ratios)
		console.log(
			`  ${r.name.padEnd(52)} ${r.value.toFixed(2)}${r.target != null ? `  (target ${r.target}: ${r.value >= r.target ? "met" : "not met"})` : ""}`,
		);
}
