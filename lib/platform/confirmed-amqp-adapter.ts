// @moleculer/channels' AMQP adapter publishes on a plain channel: its publish()
// returns once the message is in the socket's buffer, so a fact the outbox then
// forgets is lost if the connection or RabbitMQ fails before RabbitMQ has it.
// This adapter publishes on a confirm channel and returns once RabbitMQ has
// taken the message (a persistent message to durable queues: once it is on
// disk); a refused or unconfirmed one rejects, and the fact stays in its outbox
// for the sweep, as with JetStream's acknowledged publishes.
import { Adapters } from "@moleculer/channels";

type ChannelDefinition = Parameters<InstanceType<typeof Adapters.AMQP>["createConsumerHandler"]>[0];

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

	/**
	 * The adapter acknowledges a fact on whatever channel it holds when the
	 * handler ends. When the connection dropped meanwhile (RabbitMQ restarting),
	 * that is either the dead channel, where the acknowledgement throws and the
	 * handler's promise, which amqplib never awaits, rejects unhandled (Node
	 * ends the process), or the new connection's channel, where the delivery
	 * tag means nothing and RabbitMQ closes that channel: no fact in or out
	 * until the connection drops again. Each fact is acknowledged on the channel
	 * it came on instead; when that one is closed, RabbitMQ hands the fact out
	 * again (it was never acknowledged) and its consumer skips what it has done.
	 */
	createConsumerHandler(chan: ChannelDefinition): (msg: unknown) => Promise<void> {
		const channel = this.channel as { once(event: "close", listener: () => void): void };
		let closed = false;
		channel.once("close", () => (closed = true));
		const onItsChannel = Object.create(this, { channel: { value: channel } }) as this;
		const handle = super.createConsumerHandler.call(onItsChannel, chan) as (msg: unknown) => Promise<void>;
		return async msg => {
			try {
				await handle(msg);
			} catch (err) {
				if (closed) this.logger.info("A fact's channel closed before the fact was acknowledged: RabbitMQ delivers it again.");
				else this.logger.error("A fact could not be acknowledged nor put back in its queue.", err);
			}
		};
	}

	async publish(channelName: string, payload: unknown, opts?: object): Promise<void> {
		await super.publish(channelName, payload, opts);
		// Waits for every message outstanding on the channel: a refusal of any of
		// them fails the publishes waiting with it, whose facts are then sent
		// again (consumers are idempotent) rather than lost.
		if (this.channel) await this.channel.waitForConfirms();
	}
}
