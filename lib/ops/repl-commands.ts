// The REPL's own commands for daily work (README, "The REPL"). They ask the
// cluster through actions that already exist: `$node.*`, which every Moleculer
// node hosts, and the services' own actions, so a REPL attached to any
// cluster sees what its nodes see and changes data only the way services do.
import type { ReplOptions, ServiceBroker } from "moleculer";
import { checkConsistency, everything, type Call } from "./consistency";
import { demoCatalog } from "../../services/products/demo-catalog";
import { readEnv } from "../platform/env";
import { MAX_PAGE_SIZE, type Page, type Product, type StockLevel } from "../contract/contract";

/** What moleculer-repl hands a custom command (its typings say `string[]`). */
export interface ReplArgs {
	options: Record<string, unknown>;
	rawCommand: string;
}

type Paint = (text: string) => string;

/** The printing helpers moleculer-repl passes: the `table` package and kleur. */
export interface ReplHelpers {
	table(rows: string[][], config?: Record<string, unknown>): string;
	getBorderCharacters(template: string): Record<string, string>;
	kleur: { bold: Paint; red: Paint; green: Paint; yellow: Paint; gray: Paint };
}

interface ReplCommand {
	command: string;
	description: string;
	options?: { option: string; description: string }[];
	action(broker: ServiceBroker, args: ReplArgs, helpers: ReplHelpers): Promise<void>;
}

// Demo stock per product: the amount inventory gives every product when it seeds itself.
const DEMO_UNITS = 100;
// Asking one node must not hold the table up when that node is busy or dying.
const NODE_CALL = { timeout: 5000, retries: 0 };

const callOf =
	(broker: ServiceBroker): Call =>
	(action, params) =>
		broker.call(action, params);

// --- health -----------------------------------------------------------------

interface NodeInfo {
	id: string;
	available: boolean;
	local: boolean;
	hostname?: string | null;
	cpu?: number | null;
	services?: { name: string }[];
}

interface HealthStatus {
	cpu: { load1: number; cores: number | null };
	process: { pid: number; uptime: number; memory: { rss: number; heapUsed: number; heapTotal: number } };
	client: { version: string; langVersion: string };
}

export interface NodeHealth {
	nodeID: string;
	available: boolean;
	local: boolean;
	hostname: string | null;
	services: string[];
	/** CPU use in %, as the node's heartbeats report it. */
	cpu: number | null;
	load1: number | null;
	cores: number | null;
	pid: number | null;
	rssMB: number | null;
	heapUsedMB: number | null;
	uptimeSeconds: number | null;
	versions: string | null;
	/** Why `$node.health` gave no answer. */
	error?: string;
}

const megabytes = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** Every node the registry knows, with what `$node.health` on that node reports. */
export async function nodesHealth(broker: ServiceBroker): Promise<NodeHealth[]> {
	const nodes = await broker.call<NodeInfo[], object>("$node.list", { withServices: true });
	nodes.sort((a, b) => a.id.localeCompare(b.id));
	return Promise.all(
		nodes.map(async (node): Promise<NodeHealth> => {
			const row: NodeHealth = {
				nodeID: node.id,
				available: node.available,
				local: node.local,
				hostname: node.hostname ?? null,
				services: [...new Set((node.services ?? []).map(s => s.name).filter(name => !name.startsWith("$")))].sort(),
				cpu: node.available ? (node.cpu ?? null) : null, // an offline node's last figure is stale
				load1: null,
				cores: null,
				pid: null,
				rssMB: null,
				heapUsedMB: null,
				uptimeSeconds: null,
				versions: null,
			};
			if (!node.available) return row;
			try {
				const health = await broker.call<HealthStatus, object>("$node.health", {}, { nodeID: node.id, ...NODE_CALL });
				const { memory } = health.process;
				return {
					...row,
					load1: Math.round(health.cpu.load1 * 100) / 100,
					cores: health.cpu.cores,
					pid: health.process.pid,
					rssMB: megabytes(memory.rss),
					heapUsedMB: megabytes(memory.heapUsed),
					uptimeSeconds: Math.round(health.process.uptime),
					versions: `${health.client.version} / ${health.client.langVersion}`,
				};
			} catch (err) {
				return { ...row, error: errorText(err) };
			}
		}),
	);
}

export function duration(seconds: number): string {
	const d = Math.floor(seconds / 86400),
		h = Math.floor((seconds % 86400) / 3600),
		m = Math.floor((seconds % 3600) / 60),
		s = seconds % 60;
	if (d > 0) return `${d}d ${h}h`;
	if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
	if (m > 0) return `${m}m ${String(s).padStart(2, "0")}s`;
	return `${s}s`;
}

function printHealth(rows: NodeHealth[], { kleur, ...helpers }: ReplHelpers): void {
	const dash = (value: unknown, unit = "") => (value == null ? "-" : `${value}${unit}`);
	const data = [
		["Node ID", "State", "Host", "PID", "Services", "CPU", "Load 1m", "RSS", "Heap used", "Uptime", "Moleculer / Node.js"].map(kleur.bold),
		...rows.map(row => [
			row.local ? `${row.nodeID} (*)` : row.nodeID,
			!row.available ? kleur.red("OFFLINE") : row.error ? kleur.yellow("NO ANSWER") : kleur.green("ONLINE"),
			dash(row.hostname),
			dash(row.pid),
			row.services.join(", ") || "-",
			dash(row.cpu, "%"),
			row.load1 == null ? "-" : `${row.load1} / ${row.cores} cores`,
			dash(row.rssMB, " MB"),
			dash(row.heapUsedMB, " MB"),
			row.uptimeSeconds == null ? "-" : duration(row.uptimeSeconds),
			row.error ?? dash(row.versions),
		]),
	];
	console.log(table(helpers, data));
}

// --- breakers ---------------------------------------------------------------

interface ActionInfo {
	name: string;
	endpoints?: { nodeID: string; state: boolean; available: boolean }[];
}

/** An item of the circuit-breaker middleware's store (moleculer/src/middlewares/circuit-breaker.js). */
interface BreakerItem {
	ep: { id: string; action: { name: string } };
	count: number;
	failures: number;
	state: "close" | "half_open" | "half_open_wait" | "open";
}

interface MetricInfo {
	values: { value: number }[];
}

export type BreakerState = "OPEN" | "HALF_OPEN" | "CLOSED";

export interface BreakerEndpoint {
	action: string;
	nodeID: string;
	state: BreakerState;
	/** Failed and total calls in the current window; only known for this REPL node's own breaker. */
	failures?: number;
	requests?: number;
}

export interface BreakerView {
	/** The node whose breaker this is: it guards the calls *this* node makes. */
	nodeID: string;
	local: boolean;
	endpoints: number;
	/** Endpoints this node has stopped calling, plus (for the REPL node) those with failures in the window. */
	tripped: BreakerEndpoint[];
	/** Times this node's breakers opened since it started (needs METRICS_PORT on that node). */
	openedTotal: number | null;
	error?: string;
}

const BREAKER_STATE: Record<BreakerItem["state"], BreakerState> = { close: "CLOSED", half_open: "HALF_OPEN", half_open_wait: "HALF_OPEN", open: "OPEN" };

/**
 * Each node's view of the endpoints it calls: `$node.actions` on that node
 * (an endpoint whose breaker opened is marked unavailable there) and its
 * breaker metrics; this node's own breaker store adds failure counts.
 */
export async function breakerViews(broker: ServiceBroker): Promise<BreakerView[]> {
	const nodes = (await broker.call<NodeInfo[], object>("$node.list", { onlyAvailable: true })).sort((a, b) => a.id.localeCompare(b.id));
	return Promise.all(
		nodes.map(async (node): Promise<BreakerView> => {
			const view: BreakerView = { nodeID: node.id, local: node.local, endpoints: 0, tripped: [], openedTotal: null };
			try {
				const actions = await broker.call<ActionInfo[], object>(
					"$node.actions",
					{ skipInternal: true, withEndpoints: true },
					{ nodeID: node.id, ...NODE_CALL },
				);
				for (const action of actions) {
					for (const ep of action.endpoints ?? []) {
						view.endpoints++;
						if (!ep.state) view.tripped.push({ action: action.name, nodeID: ep.nodeID, state: "OPEN" });
					}
				}
			} catch (err) {
				view.error = errorText(err);
			}
			if (node.local) view.tripped = localBreakers(broker);
			view.openedTotal = await openedTotal(broker, node.id);
			return view;
		}),
	);
}

function localBreakers(broker: ServiceBroker): BreakerEndpoint[] {
	const store = (broker as unknown as { CircuitBreakerStore?: Map<string, BreakerItem> }).CircuitBreakerStore;
	return [...(store?.values() ?? [])]
		.filter(item => item.state !== "close" || item.failures > 0)
		.map(item => ({ action: item.ep.action.name, nodeID: item.ep.id, state: BREAKER_STATE[item.state], failures: item.failures, requests: item.count }))
		.sort((a, b) => a.action.localeCompare(b.action) || a.nodeID.localeCompare(b.nodeID));
}

async function openedTotal(broker: ServiceBroker, nodeID: string): Promise<number | null> {
	try {
		const metrics = await broker.call<MetricInfo[], object>(
			"$node.metrics",
			{ includes: ["moleculer.circuit-breaker.opened.total"] },
			{ nodeID, ...NODE_CALL },
		);
		return metrics.flatMap(metric => metric.values).reduce((sum, { value }) => sum + value, 0);
	} catch {
		return null; // METRICS_DISABLED: the node counts nothing
	}
}

function printBreakers(views: BreakerView[], { kleur, ...helpers }: ReplHelpers): void {
	console.log(kleur.gray("Each node's breaker guards the calls that node makes; OPEN: it sends nothing there until a probe succeeds."));
	console.log(
		table(helpers, [
			["Seen by", "Endpoints", "Open", "Opened since start"].map(kleur.bold),
			...views.map(view => [
				view.local ? `${view.nodeID} (*)` : view.nodeID,
				view.error ? kleur.yellow(`NO ANSWER: ${view.error}`) : String(view.endpoints),
				String(view.tripped.filter(ep => ep.state !== "CLOSED").length),
				view.openedTotal == null ? "-" : String(view.openedTotal),
			]),
		]),
	);
	const tripped = views.flatMap(view => view.tripped.map(ep => ({ ...ep, seenBy: view.local ? `${view.nodeID} (*)` : view.nodeID })));
	if (tripped.length === 0) {
		console.log(kleur.green("No circuit breaker is open."));
		return;
	}
	const paint: Record<BreakerState, Paint> = { OPEN: kleur.red, HALF_OPEN: kleur.yellow, CLOSED: kleur.green };
	console.log(
		table(helpers, [
			["Seen by", "Action", "On node", "State", "Failures / calls"].map(kleur.bold),
			...tripped.map(ep => [ep.seenBy, ep.action, ep.nodeID, paint[ep.state](ep.state), ep.requests == null ? "-" : `${ep.failures} / ${ep.requests}`]),
		]),
	);
}

// --- seed -------------------------------------------------------------------

export interface SeedReport {
	products: { created: number; existing: number };
	stock: { seeded: number; existing: number; unitsEach: number };
}

async function catalog(call: Call): Promise<Product[]> {
	const all: Product[] = [];
	for (let page = 1; ; page++) {
		const result = await call<Page<Product>>("products.list", { page, pageSize: MAX_PAGE_SIZE });
		all.push(...result.rows);
		if (page >= result.totalPages) return all;
	}
}

/**
 * The demo catalog (by SKU) and demo stock for every product that has no stock
 * record yet, through products.create and inventory.adjust: what services
 * seed for themselves on an empty database, for one that is not. Idempotent.
 */
export async function seedDemoData(call: Call): Promise<SeedReport> {
	const before = await catalog(call);
	const skus = new Set(before.map(product => product.sku));
	const report: SeedReport = { products: { created: 0, existing: 0 }, stock: { seeded: 0, existing: 0, unitsEach: DEMO_UNITS } };
	for (const product of demoCatalog()) {
		if (skus.has(product.sku)) {
			report.products.existing++;
			continue;
		}
		try {
			await call("products.create", { ...product });
			report.products.created++;
		} catch (err) {
			if ((err as { type?: string }).type !== "CONFLICT") throw err;
			report.products.existing++; // created meanwhile by someone else
		}
	}
	const products = report.products.created > 0 ? await catalog(call) : before;
	const stocked = new Set((await everything<StockLevel>(call, "inventory.all")).map(level => level.productId));
	for (const product of products) {
		if (stocked.has(product.id)) {
			report.stock.existing++;
			continue;
		}
		// Sets (never adds to) the available units: a repeat after a race is a no-op.
		await call("inventory.adjust", { productId: product.id, available: DEMO_UNITS });
		report.stock.seeded++;
	}
	return report;
}

const productCount = (count: number) => `${count} product${count === 1 ? "" : "s"}`;

function printSeed({ products: catalog, stock }: SeedReport): void {
	console.log(`Demo catalog: ${productCount(catalog.created)} created, ${catalog.existing} already there`);
	console.log(`Demo stock:   ${productCount(stock.seeded)} given ${stock.unitsEach} units, ${stock.existing} already had stock`);
}

// --- the commands -----------------------------------------------------------

function table(helpers: Omit<ReplHelpers, "kleur">, rows: string[][]): string {
	return helpers.table(rows, {
		border: helpers.getBorderCharacters("norc"),
		drawHorizontalLine: (index: number, count: number) => index <= 1 || index === count,
	});
}

function errorText(err: unknown): string {
	const { message, type } = err as { message?: string; type?: string };
	return `${message ?? String(err)}${type ? ` (${type})` : ""}`;
}

const json = { option: "--json", description: "Print JSON instead of a table" };

/** A failing command prints one line, not the stack trace moleculer-repl would log. */
function reporting(command: ReplCommand): ReplCommand {
	return {
		...command,
		async action(broker, args, helpers) {
			try {
				await command.action(broker, args, helpers);
			} catch (err) {
				console.log(helpers.kleur.red(`>> ERROR: ${errorText(err)}`));
			}
		},
	};
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

/** A command that gathers a report and prints it as a table, or as JSON with --json. */
function reportCommand<T>(
	command: string,
	description: string,
	gather: (broker: ServiceBroker) => Promise<T>,
	printTable: (report: T, helpers: ReplHelpers) => void,
	allowed: (helpers: ReplHelpers) => boolean = () => true,
): ReplCommand {
	return {
		command,
		description,
		options: [json],
		async action(broker, args, helpers) {
			if (!allowed(helpers)) return;
			const report = await gather(broker);
			if (args.options.json) print(report);
			else printTable(report, helpers);
		},
	};
}

export function replCommands(): NonNullable<ReplOptions["customCommands"]> {
	const commands: ReplCommand[] = [
		{
			command: "consistency",
			description: 'Check the invariants of docs/architecture.md ("Invariants") across the cluster',
			async action(broker) {
				print(await checkConsistency(callOf(broker)));
			},
		},
		reportCommand("health", "Every node: state, host, pid, services, CPU, memory and uptime ($node.health asked on each node)", nodesHealth, printHealth),
		reportCommand(
			"breakers",
			"Circuit breakers as every node sees the endpoints it calls; failure counts for this REPL node's own calls",
			breakerViews,
			printBreakers,
		),
		reportCommand(
			"seed",
			`Add the demo catalog products that are missing (by SKU) and ${DEMO_UNITS} units of stock to products without stock; idempotent, refused when NODE_ENV=production`,
			broker => seedDemoData(callOf(broker)),
			printSeed,
			helpers => {
				if (readEnv().nodeEnv !== "production") return true;
				console.log(helpers.kleur.red(">> seed adds demo data: not with NODE_ENV=production"));
				return false;
			},
		),
	];
	// moleculer's typings declare `args` as string[]; moleculer-repl passes { options, rawCommand }.
	return commands.map(reporting) as unknown as NonNullable<ReplOptions["customCommands"]>;
}
