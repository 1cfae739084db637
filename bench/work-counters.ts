// What one order costs a node besides CPU: database commands, broker calls
// and channel messages, counted on every bench node and read by the parent
// over IPC (embedded mode has no transporter to ask through).
//
// Database commands come from the MongoDB driver's command monitoring (every
// command it sends, cursors and index builds included), or, on NeDB, from the
// adapter's methods, each of which is one operation.
import { MemoryAdapter } from "moleculer-db";
import type { Middleware, ServiceBroker } from "moleculer";
import { ServiceMongoAdapter } from "../lib/platform/service-mongo-adapter";

export interface WorkCounts {
	dbCommands: Record<string, number>;
	calls: Record<string, number>;
	channelsSent: Record<string, number>;
	channelsHandled: Record<string, number>;
}

const counts: WorkCounts = { dbCommands: {}, calls: {}, channelsSent: {}, channelsHandled: {} };
const bump = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);
/** The bench's own probes are not the work being measured. */
const isProbe = (name: string) => name.startsWith("bench") || name.startsWith("$");

const NEDB_OPERATIONS = [
	"find",
	"findOne",
	"findById",
	"findByIds",
	"count",
	"insert",
	"insertMany",
	"updateMany",
	"updateById",
	"findOneAndUpdate",
	"removeMany",
	"removeById",
] as const;

/** Broker middleware: every action this node runs and every channel message it sends or handles. */
export const WorkCounters: Middleware = {
	name: "WorkCounters",
	localAction(next: (ctx: never) => unknown, action: { name: string }) {
		if (isProbe(action.name)) return next;
		return (ctx: never) => {
			bump(counts.calls, action.name);
			return next(ctx);
		};
	},
	sendToChannel(next: (channel: string, ...rest: unknown[]) => unknown) {
		return (channel: string, ...rest: unknown[]) => {
			bump(counts.channelsSent, channel);
			return next(channel, ...rest);
		};
	},
	localChannel(next: (message: unknown) => unknown, channel: { name: string; group: string }) {
		return (message: unknown) => {
			bump(counts.channelsHandled, `${channel.name} (${channel.group})`);
			return next(message);
		};
	},
} as unknown as Middleware;

/** Counts database commands: call before the broker starts (connections are made then). */
export function countDatabaseCommands(broker: ServiceBroker): void {
	ServiceMongoAdapter.commandListener = (service, command) => bump(counts.dbCommands, `${service}.${command}`);
	broker.localBus.on("$broker.started", () => {
		for (const service of broker.services) {
			const adapter = (service as unknown as { adapter?: unknown }).adapter;
			if (!(adapter instanceof MemoryAdapter)) continue;
			const methods = adapter as unknown as Record<string, (...args: unknown[]) => unknown>;
			for (const operation of NEDB_OPERATIONS) {
				const original = methods[operation].bind(adapter);
				methods[operation] = (...args) => {
					bump(counts.dbCommands, `${service.name}.${operation}`);
					return original(...args);
				};
			}
		}
	});
}

/** Answers the parent's `{counters: true}` with what was counted since the last ask. */
export function answerCounterRequests(): void {
	process.on("message", (message: { counters?: boolean }) => {
		if (!message.counters) return;
		process.send?.({ counters: structuredClone(counts) });
		for (const table of Object.values(counts)) for (const key of Object.keys(table)) delete table[key];
	});
}
