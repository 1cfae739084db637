// The per-order table: checkout runs side by side (cluster and embedded, 20
// and 100 shoppers), what each order cost every process, and the work behind
// it; then the long run's windows.
import type { CheckoutResult } from "./checkout";

const ms = (micros: number | undefined) => (micros == null ? "" : (micros / 1000).toFixed(2));
const n = (value: number | undefined, digits = 1) => (value == null ? "" : value.toFixed(digits));

/** The store and the load generator apart: what our own code costs per order. */
export function ownCpu(run: CheckoutResult): number {
	const { total, store = 0, load = 0 } = run.cpu;
	return total - store - load;
}

function row(name: string, runs: CheckoutResult[], cell: (run: CheckoutResult) => string): string {
	return `| ${name} | ${runs.map(cell).join(" | ")} |`;
}

export function checkoutTable(runs: CheckoutResult[]): string {
	const processes = [...new Set(runs.flatMap(run => Object.keys(run.cpu)))].filter(name => name !== "total");
	const sumOf = (table: Record<string, number>) => table.total ?? 0;
	return [
		`| per order | ${runs.map(run => `${run.mode}, ${run.shoppers} shoppers`).join(" | ")} |`,
		`|---|${runs.map(() => "---").join("|")}|`,
		row("orders/s", runs, run => n(run.ordersPerSecond)),
		row("p50 / p99 ms", runs, run => `${n(run.p50, 0)} / ${n(run.p99, 0)}`),
		row("orders (errors)", runs, run => `${run.orders} (${run.errors})`),
		...processes.map(name => row(`CPU ms: ${name}`, runs, run => ms(run.cpu[name]))),
		row("**CPU ms: all but store and load**", runs, run => `**${ms(ownCpu(run))}**`),
		row("CPU ms: total", runs, run => ms(run.cpu.total)),
		row("**database commands**", runs, run => `**${n(sumOf(run.perOrder.dbCommands))}**`),
		row("broker calls (actions run)", runs, run => n(sumOf(run.perOrder.calls))),
		row("channel messages sent / handled", runs, run => `${n(sumOf(run.perOrder.channelsSent))} / ${n(sumOf(run.perOrder.channelsHandled))}`),
	].join("\n");
}

/** One run's work per order, by database command, action and channel. */
export function workDetail(run: CheckoutResult): string {
	const list = (table: Record<string, number>) =>
		Object.entries(table)
			.filter(([name]) => name !== "total")
			.sort((a, b) => b[1] - a[1])
			.map(([name, value]) => `${name} ${value.toFixed(2)}`)
			.join(", ");
	return [
		`- database commands (${n(run.perOrder.dbCommands.total)}): ${list(run.perOrder.dbCommands)}`,
		`- actions run (${n(run.perOrder.calls.total)}): ${list(run.perOrder.calls)}`,
		`- channel messages sent: ${list(run.perOrder.channelsSent)}; handled: ${list(run.perOrder.channelsHandled)}`,
	].join("\n");
}

export function windowTable(run: CheckoutResult): string {
	return [
		"| window, s | orders | orders/s | p99 ms | CPU ms per order, all but store and load | store | total |",
		"|---|---|---|---|---|---|---|",
		...run.windows.map(w => {
			const { total, store = 0, load = 0 } = w.cpu;
			return `| ${w.fromSecond.toFixed(0)}–${w.toSecond.toFixed(0)} | ${w.orders} | ${n(w.ordersPerSecond)} | ${n(w.p99, 0)} | ${ms(total - store - load)} | ${ms(store)} | ${ms(total)} |`;
		}),
	].join("\n");
}

interface Ratio {
	name: string;
	value: number;
	target?: number;
	note?: string;
}

/** The checkout targets, each as a ratio that meets its target at 1 or more. */
export function checkoutRatios(runs: CheckoutResult[], longRun?: CheckoutResult): Ratio[] {
	const find = (mode: string, shoppers: number) => runs.find(run => run.mode === mode && run.shoppers === shoppers);
	const ratios: Ratio[] = [];
	const cluster = find("cluster", 20);
	if (cluster) {
		const own = ownCpu(cluster);
		ratios.push(
			{ name: "checkout orders/s on the cluster (20 shoppers) / 100", value: cluster.ordersPerSecond / 100, target: 1, note: `${cluster.errors} errors` },
			{
				name: "300 ms / checkout p99 on the cluster (20 shoppers)",
				value: 300 / Math.max(cluster.p99, 1),
				target: 1,
				note: `p99 ${cluster.p99.toFixed(0)} ms`,
			},
			{ name: "8 ms / CPU per order, all processes but the store", value: 8000 / Math.max(own, 1), target: 1, note: `${(own / 1000).toFixed(2)} ms` },
			{
				name: "6 ms / store CPU per order",
				value: 6000 / Math.max(cluster.cpu.store ?? 0, 1),
				target: 1,
				note: `${((cluster.cpu.store ?? 0) / 1000).toFixed(2)} ms`,
			},
			{
				name: "12 / database commands per order",
				value: 12 / Math.max(cluster.perOrder.dbCommands.total, 0.01),
				target: 1,
				note: `${cluster.perOrder.dbCommands.total.toFixed(1)} commands`,
			},
		);
	}
	const embedded = find("embedded", 20);
	if (embedded) {
		ratios.push(
			{
				name: "embedded checkout orders/s (20 shoppers) / 250",
				value: embedded.ordersPerSecond / 250,
				target: 1,
				note: `p99 ${embedded.p99.toFixed(0)} ms, ${embedded.errors} errors`,
			},
			{
				name: "4 ms / embedded CPU per order (all but the load)",
				value: 4000 / Math.max(ownCpu(embedded), 1),
				target: 1,
				note: `${(ownCpu(embedded) / 1000).toFixed(2)} ms`,
			},
		);
	}
	if (longRun && longRun.windows.length > 1) {
		const first = longRun.windows[0];
		const last = longRun.windows[longRun.windows.length - 1];
		const cost = (w: typeof first) => w.cpu.total - (w.cpu.load ?? 0);
		ratios.push({
			name: "CPU per order, first / last window of 5 minutes",
			value: cost(first) / Math.max(cost(last), 1),
			target: 0.9,
			note: `${longRun.orders} orders stored by the end; ${(cost(first) / 1000).toFixed(2)} -> ${(cost(last) / 1000).toFixed(2)} ms (store included)`,
		});
	}
	return ratios;
}
