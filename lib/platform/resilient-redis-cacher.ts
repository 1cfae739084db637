// Moleculer's Redis cacher for a cache that may go away. Moleculer 0.15's
// cacher middleware skips the cache only once the client has reported an
// error; a read that fails before that (the connection just dropped, or Redis
// does not answer within FAIL_FAST's timeout) fails the action, and a write
// that fails after the handler answered is an unhandled rejection (which ends
// a Node process). Here a failed read is a miss, so the action answers from its
// handler, and a failed write is skipped.
//
// A failed clean (a catalog change while Redis is away) must not fail the
// write that caused it either; but a Redis that kept its data through the
// outage would then serve entries older than the change, so the cache is
// emptied when Redis is back.
import { Cachers, type ServiceBroker } from "moleculer";

export class ResilientRedisCacher extends Cachers.Redis {
	private missedClean = false;

	init(broker: ServiceBroker): void {
		super.init(broker);
		this.client.on("ready", () => {
			if (!this.missedClean) return;
			this.missedClean = false;
			this.logger.info("Redis is back: emptying the cache, which missed changes while it was away");
			void this.clean();
		});
	}

	/** quit() needs a connection: stopping while Redis is away just drops the client. */
	async close(): Promise<void> {
		if (this.client.status === "ready") return super.close();
		this.client.disconnect();
	}

	async get(key: string): Promise<Record<string, unknown> | null> {
		try {
			return await super.get(key);
		} catch (err) {
			this.logger.debug(`Cache read failed, answering from the handler: ${(err as Error).message}`);
			return this.opts.missingResponse;
		}
	}

	async set(key: string, data: unknown, ttl?: number): Promise<void> {
		try {
			await super.set(key, data, ttl);
		} catch (err) {
			this.logger.debug(`Cache write skipped: ${(err as Error).message}`);
		}
	}

	async clean(match?: string | string[]): Promise<void> {
		try {
			await super.clean(match);
		} catch (err) {
			this.missedClean = true;
			this.logger.warn(`Cache clean failed, the cache will be emptied when Redis is back: ${(err as Error).message}`);
		}
	}
}
