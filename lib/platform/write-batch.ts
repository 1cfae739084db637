// Group commit: writes that may wait a few milliseconds (published facts
// leaving their outbox, messages marked sent) are gathered and written
// together, one database command per window instead of one per document.
export class WriteBatch<T> {
	private pending: { item: T; done: () => void; failed: (err: Error) => void }[] = [];
	private timer?: NodeJS.Timeout;

	constructor(
		private readonly windowMs: number,
		private readonly write: (items: T[]) => Promise<void>,
	) {}

	/** Resolves once the item's batch is written. */
	add(item: T): Promise<void> {
		return new Promise((done, failed) => {
			this.pending.push({ item, done, failed });
			this.timer ??= setTimeout(() => void this.flush(), this.windowMs);
		});
	}

	/** Writes what is waiting now (also on shutdown). */
	async flush(): Promise<void> {
		clearTimeout(this.timer);
		this.timer = undefined;
		const batch = this.pending;
		this.pending = [];
		if (batch.length === 0) return;
		try {
			await this.write(batch.map(entry => entry.item));
			for (const entry of batch) entry.done();
		} catch (err) {
			for (const entry of batch) entry.failed(err as Error);
		}
	}
}
