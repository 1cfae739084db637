// Facts that must never be lost between a database write and their publication.
//
// A fact is appended to the `outbox` array of the very document whose change
// it announces, in the same single-document update, so the write and the fact
// are atomic without multi-document transactions. The writer publishes the
// facts the write returned on @moleculer/channels at once; a periodic sweep
// catches facts left behind by a node that died in between. Published facts
// leave their documents in batches: one update for all the documents whose
// facts went out in the same short window (a group commit), each matched only
// while its outbox holds exactly the facts that were sent. A fact may so be
// published twice; JetStream drops a repeated message id inside its duplicate
// window, and consumers are idempotent on what the fact is about (a shipment
// per order, a message per template and order, a status moved only from the
// one it expects).
import { randomUUID } from "node:crypto";
import type { ServiceBroker, ServiceSchema } from "moleculer";
import type { DbService, DbServiceSchema } from "./db.mixin";
import { runEvery } from "../lib/platform/periodic";
import { WriteBatch } from "../lib/platform/write-batch";

export interface OutboxFact {
	id: string;
	channel: string;
	payload: Record<string, unknown>;
}

const SWEEP_INTERVAL_MS = 2000;
/** How long published facts wait to leave their documents with others: one write per window, not per document. */
const ACKNOWLEDGE_WINDOW_MS = 20;

/** A fact for the outbox: its id travels in the payload as `factId`. */
export function fact(channel: string, payload: Record<string, unknown>): OutboxFact {
	const id = randomUUID();
	return { id, channel, payload: { ...payload, factId: id } };
}

export interface OutboxService extends DbService {
	/** Publishes `facts`, the outbox of document `id` as a write just returned it. */
	publishFacts(id: string, facts: OutboxFact[] | undefined): Promise<void>;
	/** Reads the document's outbox and publishes it (the sweep, or a writer that has not the document at hand). */
	publishOutbox(id: string): Promise<void>;
	sweepOutbox(): Promise<void>;
	stopOutboxSweep?: () => void;
	/** Documents whose facts all went out, with how many facts their outbox held. */
	published: WriteBatch<{ id: string; count: number }>;
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
		async publishFacts(this: OutboxService, id: string, facts: OutboxFact[] = []): Promise<void> {
			for (const item of facts) {
				try {
					await sendToChannel(this.broker, item.channel, item.payload, { msgID: item.id });
				} catch (err) {
					// Stays in the outbox; the sweep tries again.
					this.logger.warn(`Fact ${item.channel} ${item.id} not published yet: ${(err as Error).message}`);
					return;
				}
			}
			if (facts.length === 0) return;
			this.published
				.add({ id, count: facts.length })
				.catch(err => this.logger.warn(`Published facts stay in their outbox until the sweep: ${err.message}`));
		},

		async publishOutbox(this: OutboxService, id: string): Promise<void> {
			const found = await this.adapter.findById(id);
			const doc = found ? ((await this.adapter.entityToObject(found)) as { outbox?: OutboxFact[] }) : null;
			await this.publishFacts(id, doc?.outbox);
		},

		async sweepOutbox(this: OutboxService): Promise<void> {
			const pending = (await this.adapter.find({ query: { outboxPending: true }, limit: 100 })) as { _id: string }[];
			for (const doc of pending) await this.publishOutbox(doc._id);
		},
	},

	created(this: OutboxService) {
		this.published = new WriteBatch(ACKNOWLEDGE_WINDOW_MS, async documents => {
			for (const count of new Set(documents.map(document => document.count))) {
				const ids = documents.filter(document => document.count === count).map(document => document.id);
				// Facts are only ever appended: an outbox still of this size holds just the facts sent.
				// One that grew meanwhile keeps everything, and the sweep publishes it again.
				await this.adapter.updateMany({ _id: { $in: ids }, outbox: { $size: count } }, { $set: { outbox: [], outboxPending: false } });
			}
		});
	},

	started(this: OutboxService) {
		this.stopOutboxSweep = runEvery(
			SWEEP_INTERVAL_MS,
			() => this.sweepOutbox(),
			err => this.logger.warn(`Outbox sweep failed: ${err.message}`),
		);
	},

	async stopped(this: OutboxService) {
		this.stopOutboxSweep?.();
		await this.published.flush();
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
