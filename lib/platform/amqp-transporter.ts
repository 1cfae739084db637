// Moleculer's AMQP transporter acknowledges a request once its action has
// answered, on whatever channel it holds by then. When RabbitMQ restarted while
// the action ran, that is the new connection's channel, where the old delivery
// tag means nothing: RabbitMQ closes the channel, and the node, its connection
// still up, never reconnects and hears nothing again (no requests, no
// heartbeats: the others drop it for good). This transporter acknowledges a
// message on the channel it came on, and only while that is still the
// transporter's channel (it is set to null when it closes); otherwise RabbitMQ
// has put the message back already, for this node or another to serve again.
import { Transporters } from "moleculer";

interface Delivery {
	content: Buffer;
}

interface AmqpChannel {
	ack(message: Delivery): void;
	nack(message: Delivery): void;
}

export class AmqpTransporter extends Transporters.AMQP {
	_consumeCB(cmd: string, needAck = false): (msg: Delivery) => void | Promise<void> {
		const channel = this.channel as AmqpChannel;
		const settle = (message: Delivery, ok: boolean) => {
			if (this.channel !== channel) return;
			if (ok) channel.ack(message);
			else channel.nack(message);
		};
		return message => {
			const result = this.receive(cmd, message.content);
			if (!needAck) return result;
			if (result) {
				return result.then(
					() => settle(message, true),
					(err: unknown) => {
						this.logger.error("Message handling error.", err);
						settle(message, false);
					},
				);
			}
			settle(message, true);
		};
	}
}
