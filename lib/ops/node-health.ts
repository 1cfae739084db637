// The REPL's `health`: every node the registry knows, with what
// `$node.health` on that node reports.
import type { ServiceBroker } from "moleculer";
import { NODE_CALL, type NodeInfo } from "./node-call";
import { errorText, table, type ReplHelpers } from "./repl-output";

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

export function printHealth(rows: NodeHealth[], { kleur, ...helpers }: ReplHelpers): void {
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
