// Sending email and SMS, which the project does not run itself. One interface;
// the development transport only logs, the message is kept in the
// notifications store either way. An SMTP/SMS transport plugs in here.
import type { Service } from "moleculer";
import type { Notification } from "../../lib/contract/contract";

export interface MessageTransport {
	send(message: Pick<Notification, "channel" | "to" | "subject" | "body">): Promise<void>;
}

export class LogTransport implements MessageTransport {
	constructor(private readonly logger: Service["logger"]) {}

	async send(message: Pick<Notification, "channel" | "to" | "subject" | "body">): Promise<void> {
		this.logger.info(`[${message.channel}] to ${message.to}: ${message.subject}`);
	}
}
