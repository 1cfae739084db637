// @moleculer/channels' AMQP adapter publishes on a plain channel: its publish()
// returns once the message is in the socket's buffer, so a fact the outbox then
// forgets is lost if the connection or RabbitMQ fails before RabbitMQ has it.
// This adapter publishes on a confirm channel and returns once RabbitMQ has
// taken the message (a persistent message to durable queues: once it is on
// disk); a refused or unconfirmed one rejects, and the fact stays in its outbox
// for the sweep, as with JetStream's acknowledged publishes.
import { Adapters } from "@moleculer/channels";

interface AmqpConnection {
	createChannel(): Promise<unknown>;
	createConfirmChannel(): Promise<unknown>;
}

export class ConfirmedAmqpAdapter extends Adapters.AMQP {
	constructor(opts: object) {
		super(opts);
		// The adapter opens its one channel on each connection it has just made
		// (tryConnect, which has no other hook): every such connection opens a
		// confirm channel instead.
		let connection: AmqpConnection | null = null;
		Object.defineProperty(this, "connection", {
			get: () => connection,
			set: (value: AmqpConnection | null) => {
				if (value) value.createChannel = () => value.createConfirmChannel();
				connection = value;
			},
		});
	}

	async publish(channelName: string, payload: unknown, opts?: object): Promise<void> {
		await super.publish(channelName, payload, opts);
		// Waits for every message outstanding on the channel: a refusal of any of
		// them fails the publishes waiting with it, whose facts are then sent
		// again (consumers are idempotent) rather than lost.
		if (this.channel) await this.channel.waitForConfirms();
	}
}
