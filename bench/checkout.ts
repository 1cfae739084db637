// What one order costs: shoppers check out through the gateway while every
// process's CPU, every node's database commands, broker calls and channel
// messages are counted, then divided by the orders placed. The run is cut
// into windows, so a cost that grows with the orders stored shows as a later
// window costing more than the first.
import { cpuMicros } from "./cpu";
import { start, workCounts, type Proc } from "./processes";
import type { CheckoutRun } from "./checkout-load";
import type { WorkCounts } from "./work-counters";

export interface CheckoutWindow {
	fromSecond: number;
	toSecond: number;
	orders: number;
	ordersPerSecond: number;
	p99: number;
	/** CPU µs per order of each process, and their total. */
	cpu: Record<string, number>;
}

export interface CheckoutResult {
	mode: string;
	shoppers: number;
	seconds: number;
	orders: number;
	ordersPerSecond: number;
	p50: number;
	p99: number;
	errors: number;
	confirmed: number;
	cancelled: number;
	failures: string[];
	/** CPU µs per order of each process (app nodes, servers, the load generator) and their total. */
	cpu: Record<string, number>;
	/** Per order: database commands by service and command, broker calls by action, channel messages. */
	perOrder: {
		dbCommands: Record<string, number>;
		calls: Record<string, number>;
		channelsSent: Record<string, number>;
		channelsHandled: Record<string, number>;
	};
	windows: CheckoutWindow[];
}

export interface Shop {
	url: string;
	/** App nodes: their CPU and work counters are read. */
	nodes: Proc[];
	/** Servers (name -> pid): their CPU is read. */
	servers: Record<string, number>;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function withTotal(table: Record<string, number>): Record<string, number> {
	return { ...table, total: sum(Object.values(table)) };
}

function merge(all: WorkCounts[], key: keyof WorkCounts, orders: number): Record<string, number> {
	const merged: Record<string, number> = {};
	for (const counts of all) for (const [name, n] of Object.entries(counts[key])) merged[name] = (merged[name] ?? 0) + n / Math.max(orders, 1);
	return withTotal(Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b))));
}

/** Untimed shopping first, so both the JIT of every node and the store's have compiled the order path. */
export async function warmUp(shop: Shop, seconds: number): Promise<void> {
	await measureCheckout(shop, "warm-up", 20, seconds);
}

export async function measureCheckout(shop: Shop, mode: string, shoppers: number, seconds: number, windowSeconds = seconds): Promise<CheckoutResult> {
	const load = await start(`checkout load (${shoppers})`, "bench/checkout-load.ts", { BENCH_URL: shop.url, BENCH_USERS: String(shoppers) }, 120_000);
	const pids: Record<string, number> = {
		...Object.fromEntries(shop.nodes.map(node => [node.name, node.child.pid!])),
		...shop.servers,
		load: load.child.pid!,
	};
	const cpuNow = () => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMicros(pid)]));

	await Promise.all(shop.nodes.map(workCounts)); // from zero: sign-ups and stock are not the orders' work
	const began = Date.now();
	const samples = [{ at: began, cpu: cpuNow() }];
	const sampler = setInterval(() => samples.push({ at: Date.now(), cpu: cpuNow() }), windowSeconds * 1000);
	const run = await new Promise<CheckoutRun>((resolve, reject) => {
		load.child.once("message", message => resolve(message as CheckoutRun));
		load.child.once("exit", code => reject(new Error(`the checkout load exited (${code}) without its result`)));
		load.child.send({ go: seconds });
	});
	clearInterval(sampler);
	const ended = Date.now();
	const endCpu = cpuNow(); // before reading counters: that ask is not the orders' work either
	const counts = await Promise.all(shop.nodes.map(workCounts));
	await load.stop();
	if (ended - samples[samples.length - 1].at > windowSeconds * 500) samples.push({ at: ended, cpu: endCpu });
	else samples[samples.length - 1] = { at: ended, cpu: endCpu };

	const cpuPerOrder = (from: Record<string, number>, to: Record<string, number>, orders: number) =>
		withTotal(Object.fromEntries(Object.keys(pids).map(name => [name, (to[name] - from[name]) / Math.max(orders, 1)])));
	const windows = samples.slice(1).map((sample, i) => {
		const from = samples[i];
		const latencies = run.latencies.filter((_, k) => run.completedAt[k] > from.at && run.completedAt[k] <= sample.at).sort((a, b) => a - b);
		return {
			fromSecond: (from.at - began) / 1000,
			toSecond: (sample.at - began) / 1000,
			orders: latencies.length,
			ordersPerSecond: latencies.length / ((sample.at - from.at) / 1000),
			p99: percentile(latencies, 0.99),
			cpu: cpuPerOrder(from.cpu, sample.cpu, latencies.length),
		};
	});
	const orders = run.confirmed + run.cancelled;
	const latencies = [...run.latencies].sort((a, b) => a - b);
	return {
		mode,
		shoppers,
		seconds: (ended - began) / 1000,
		orders,
		ordersPerSecond: orders / ((ended - began) / 1000),
		p50: percentile(latencies, 0.5),
		p99: percentile(latencies, 0.99),
		errors: run.errors,
		confirmed: run.confirmed,
		cancelled: run.cancelled,
		failures: run.failures,
		cpu: cpuPerOrder(samples[0].cpu, endCpu, orders),
		perOrder: {
			dbCommands: merge(counts, "dbCommands", orders),
			calls: merge(counts, "calls", orders),
			channelsSent: merge(counts, "channelsSent", orders),
			channelsHandled: merge(counts, "channelsHandled", orders),
		},
		windows,
	};
}
