// services/notifications/notifications.service.ts — one email per fact: welcome, order
// confirmed, cancelled, shipped, delivered. The message id is derived from
// the fact (template + order or user), so a redelivered fact sends nothing new.
import type { Context } from "moleculer";
import { DbMixin, exportAction, type DbService, type DbServiceSchema } from "../../mixins/db.mixin";
import { Authorized, currentUser, type ClientMeta } from "../../mixins/auth.mixin";
import { insertIfAbsent } from "../../lib/platform/db-errors";
import { WriteBatch } from "../../lib/platform/write-batch";
import { LogTransport, type MessageTransport } from "./message-transport";
import { render, type Template } from "./templates";
import { pageParams, type PageParams } from "../../lib/rules/paging";
import {
	Channels,
	type Notification,
	type OrderCancelled,
	type OrderConfirmed,
	type Page,
	type ShipmentFact,
	type UserRegistered,
} from "../../lib/contract/contract";

/** The message each fact sends. */
const TEMPLATE_OF_FACT: Record<string, Template> = {
	[Channels.USER_REGISTERED]: "welcome",
	[Channels.ORDER_CONFIRMED]: "order-confirmed",
	[Channels.ORDER_CANCELLED]: "order-cancelled",
	[Channels.SHIPMENT_SHIPPED]: "order-shipped",
	[Channels.SHIPMENT_DELIVERED]: "order-delivered",
};

type NotifiedFact = UserRegistered | OrderConfirmed | OrderCancelled | ShipmentFact;

/** Sent messages are marked in batches; a fact's handler still waits for its mark. */
const MARK_SENT_WINDOW_MS = 20;

interface NotificationsService extends DbService {
	transport: MessageTransport;
	sent: WriteBatch<string>;
	notify(template: Template, fact: { factId: string; userId: string; email: string; orderId?: string } & Record<string, unknown>): Promise<void>;
}

const NotificationsService: DbServiceSchema<NotificationsService> = {
	name: "notifications",
	mixins: [
		DbMixin({
			fields: {
				userId: { type: String, required: true, index: true },
				channel: String,
				to: String,
				template: String,
				subject: String,
				body: String,
				orderId: String,
				factId: String,
				status: String,
			},
		}),
		Authorized,
	],

	settings: {
		fields: ["id", "userId", "channel", "to", "template", "subject", "body", "orderId", "status", "createdAt"],
	},

	actions: {
		list: {
			access: "user",
			params: { ...pageParams, $$strict: "remove" },
			handler(this: NotificationsService, ctx: Context<PageParams, ClientMeta>): Promise<Page<Notification>> {
				return this.findPage(ctx, { query: { userId: currentUser(ctx).id }, sort: ["-createdAt", "_id"], ...ctx.params });
			},
		},

		// --- internal: the consistency check ---
		all: exportAction({}, (doc: Notification & { _id: string }) => ({ ...doc, id: doc._id })),
	},

	// One handler per fact, each sending the fact's template.
	channels: Object.fromEntries(
		Object.entries(TEMPLATE_OF_FACT).map(([channel, template]) => [
			channel,
			{
				group: "notifications",
				handler(this: NotificationsService, fact: NotifiedFact) {
					return this.notify(template, { ...fact });
				},
			},
		]),
	),

	methods: {
		async notify(this: NotificationsService, template, data): Promise<void> {
			const id = `${template}:${data.orderId ?? data.userId}`;
			const { subject, body } = render(template, data);
			const now = new Date().toISOString();
			// Already there: this fact was handled before; send only if that attempt died before sending.
			if (
				!(await insertIfAbsent(
					this.adapter.insert({
						_id: id,
						userId: data.userId,
						channel: "email",
						to: data.email,
						template,
						subject,
						body,
						orderId: data.orderId,
						factId: data.factId,
						status: "PENDING",
						createdAt: now,
						updatedAt: now,
					}),
				))
			) {
				const doc = (await this.adapter.findById(id)) as Notification | null;
				if (doc?.status !== "PENDING") return;
			}
			await this.transport.send({ channel: "email", to: data.email, subject, body });
			await this.sent.add(id);
		},
	},

	created(this: NotificationsService) {
		this.transport = new LogTransport(this.logger);
		this.sent = new WriteBatch(MARK_SENT_WINDOW_MS, async ids => {
			await this.adapter.updateMany({ _id: { $in: ids }, status: "PENDING" }, { $set: { status: "SENT", updatedAt: new Date().toISOString() } });
		});
	},

	async stopped(this: NotificationsService) {
		await this.sent.flush();
	},
};

export default NotificationsService;
