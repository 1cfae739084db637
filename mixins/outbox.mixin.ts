// Facts that must never be lost between a database write and their publication.
//
// A fact is appended to the `outbox` array of the very document whose change
// it announces, in the same single-document update, so the write and the fact
// are atomic without multi-document transactions. A relay then publishes it on
// @moleculer/channels and pulls it from the document: right after the write,
// and by a periodic sweep that catches facts left behind by a node that died
// in between. A fact may so be published twice; JetStream drops a repeated
// message id inside its duplicate window, and consumers de-duplicate on
// `factId` anyway.
import { randomUUID } from "node:crypto";
import type { ServiceBroker, ServiceSchema } from "moleculer";
import type { DbService, DbServiceSchema } from "./db.mixin";
import { runEvery } from "../lib/periodic";

export interface OutboxFact {
	id: string;
	channel: string;
	payload: Record<string, unknown>;
}

const SWEEP_INTERVAL_MS = 2000;

/** A fact for the outbox: its id travels in the payload as `factId`. */
export function fact(channel: string, payload: Record<string, unknown>): OutboxFact {
	const id = randomUUID();
	return { id, channel, payload: { ...payload, factId: id } };
}

export interface OutboxService extends DbService {
	publishOutbox(id: string): Promise<void>;
	sweepOutbox(): Promise<void>;
	stopOutboxSweep?: () => void;
}

/** The channels middleware adds this to the broker. */
export function sendToChannel(broker: ServiceBroker, channel: string, payload: unknown, opts: Record<string, unknown> = {}): Promise<void> {
	return (broker as unknown as { sendToChannel(c: string, p: unknown, o: object): Promise<void> }).sendToChannel(channel, payload, opts);
}

/** The outbox fields every document of an outbox service carries. */
export const outboxFields = {
	outbox: { type: Array, default: [] },
	outboxPending: { type: Boolean, default: false, index: true },
};

/** An update that records `facts` in the same write as `update`. */
export function withFacts(update: Record<string, Record<string, unknown>>, ...facts: OutboxFact[]): Record<string, unknown> {
	return {
		...update,
		$set: { ...update.$set, outboxPending: true },
		$push: { ...update.$push, outbox: facts.length === 1 ? facts[0] : { $each: facts } },
	};
}

const OutboxSchema: DbServiceSchema<OutboxService> = {
	name: "",
	actions: {
		/** How many documents hold facts not yet published: 0 once the cluster has settled. */
		outboxBacklog: {
			visibility: "public", // for the consistency check and the REPL, not the gateway
			async handler(this: OutboxService): Promise<number> {
				return this.adapter.count({ query: { outboxPending: true } });
			},
		},
	},
	methods: {
		async publishOutbox(this: OutboxService, id: string): Promise<void> {
			const found = await this.adapter.findById(id);
			// Plain objects: the facts go back to the database as values to remove.
			const doc = found ? ((await this.adapter.entityToObject(found)) as { outbox?: OutboxFact[] }) : null;
			const facts = doc?.outbox ?? [];
			if (facts.length === 0) return;
			const sent: OutboxFact[] = [];
			for (const item of facts) {
				try {
					await sendToChannel(this.broker, item.channel, item.payload, { msgID: item.id });
					sent.push(item);
				} catch (err) {
					// Stays in the outbox; the sweep tries again.
					this.logger.warn(`Fact ${item.channel} ${item.id} not published yet: ${(err as Error).message}`);
					break;
				}
			}
			if (sent.length === 0) return;
			// Each published fact leaves by exact value: FerretDB ignores a $pull
			// by condition ({id: ...}), and NeDB has no $pullAll.
			for (const item of sent) await this.adapter.updateMany({ _id: id }, { $pull: { outbox: item } });
			if (sent.length === facts.length) await this.adapter.updateMany({ _id: id, outbox: { $size: 0 } }, { $set: { outboxPending: false } });
		},

		async sweepOutbox(this: OutboxService): Promise<void> {
			const pending = (await this.adapter.find({ query: { outboxPending: true }, limit: 100 })) as { _id: string }[];
			for (const doc of pending) await this.publishOutbox(doc._id);
		},
	},

	started(this: OutboxService) {
		this.stopOutboxSweep = runEvery(SWEEP_INTERVAL_MS, () => this.sweepOutbox(), err => this.logger.warn(`Outbox sweep failed: ${err.message}`));
	},

	stopped(this: OutboxService) {
		this.stopOutboxSweep?.();
	},
};

export const Outbox = OutboxSchema as unknown as Partial<ServiceSchema>;

/** A channel handler as @moleculer/channels calls it (context: false): the payload. */
export interface ChannelHandler<TThis> {
	group: string;
	maxRetries?: number;
	handler(this: TThis, payload: never): Promise<void>;
}

declare module "moleculer/src/service" {
	// eslint-disable-next-line @typescript-eslint/no-unused-vars
	interface ServiceSchema<TSettings, TMethods, TVars, TThis> {
		channels?: Record<string, ChannelHandler<TThis>>;
	}
}
