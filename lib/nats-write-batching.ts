// One socket write per event-loop turn on the NATS connection, instead of one
// per request.
//
// nats.js flushes its outbound buffer on a microtask after the first command
// (ProtocolHandler.sendCommand), so every request that arrives in an I/O
// callback of its own costs a write syscall on each side of the hop, and a
// syscall costs more here than the message itself. Flushing at setImmediate,
// after the poll phase, sends everything the turn produced in one write.
// Nothing waits longer than the rest of the current turn. Moleculer's
// transporter flushes (PING/PONG) before it closes, so a node's DISCONNECT
// still goes out.
import { Transporters } from "moleculer";

interface Protocol {
	flushPending(): void;
}

export function flushOncePerTurn(connection: { protocol?: Protocol }): void {
	const protocol = connection.protocol;
	if (!protocol) return;
	const flushNow = protocol.flushPending.bind(protocol);
	let scheduled = false;
	protocol.flushPending = () => {
		if (scheduled) return;
		scheduled = true;
		setImmediate(() => {
			scheduled = false;
			flushNow();
		});
	};
}

/** Moleculer's NATS transporter with the connection's writes batched per turn. */
export class BatchingNatsTransporter extends Transporters.NATS {
	async connect(): Promise<void> {
		await super.connect();
		flushOncePerTurn((this as unknown as { client: { protocol?: Protocol } }).client);
	}
}
