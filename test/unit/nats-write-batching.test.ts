// The NATS connection's outbound buffer is flushed once per event-loop turn.
import { flushOncePerTurn } from "../../lib/nats-write-batching";

describe("NATS writes batched per event-loop turn", () => {
	it("turns every flush asked for in one turn into a single write after the turn's I/O", async () => {
		const writes: string[][] = [];
		let pending: string[] = [];
		const protocol = {
			send(command: string) {
				pending.push(command);
				this.flushPending();
			},
			flushPending() {
				if (pending.length > 0) writes.push(pending);
				pending = [];
			},
		};
		flushOncePerTurn({ protocol });

		// Three requests handled in three callbacks of the same poll phase.
		await Promise.all([1, 2, 3].map(i => new Promise<void>(resolve => setTimeout(() => {
			protocol.send(`PUB req.${i}`);
			resolve();
		}, 0))));
		expect(writes).toEqual([]); // not yet: the turn has not ended
		await new Promise(resolve => setImmediate(resolve));
		expect(writes).toEqual([["PUB req.1", "PUB req.2", "PUB req.3"]]);

		// The next turn gets its own write.
		protocol.send("PUB req.4");
		await new Promise(resolve => setImmediate(resolve));
		expect(writes).toHaveLength(2);
	});

	it("leaves a connection without a protocol handler alone", () => {
		expect(() => flushOncePerTurn({})).not.toThrow();
	});
});
