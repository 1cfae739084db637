// services/notifications.service.ts — one email per fact: welcome, order
// confirmed, cancelled, shipped, delivered. The message id is derived from
// the fact (template + order or user), so a redelivered fact sends nothing new.
import type { Context } from "moleculer";
import { DbMixin, exportAction, type DbService, type DbServiceSchema } from "../mixins/db.mixin";
import { Authorized, currentUser, type ClientMeta } from "../mixins/auth.mixin";
import { insertIfAbsent } from "../lib/db-errors";
import { WriteBatch } from "../lib/write-batch";
import { LogTransport, type MessageTransport } from "../lib/message-transport";
import { render, type Template } from "../lib/notification-templates";
import { pageParams, type PageParams } from "../lib/paging";
import { Channels, type Notification, type OrderCancelled, type OrderConfirmed, type Page, type ShipmentFact, type UserRegistered } from "../lib/contract";

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

	channels: {
		[Channels.USER_REGISTERED]: {
			group: "notifications",
			handler(this: NotificationsService, user: UserRegistered) {
				return this.notify("welcome", { ...user });
			},
		},
		[Channels.ORDER_CONFIRMED]: {
			group: "notifications",
			handler(this: NotificationsService, order: OrderConfirmed) {
				return this.notify("order-confirmed", { ...order });
			},
		},
		[Channels.ORDER_CANCELLED]: {
			group: "notifications",
			handler(this: NotificationsService, order: OrderCancelled) {
				return this.notify("order-cancelled", { ...order });
			},
		},
		[Channels.SHIPMENT_SHIPPED]: {
			group: "notifications",
			handler(this: NotificationsService, shipment: ShipmentFact) {
				return this.notify("order-shipped", { ...shipment });
			},
		},
		[Channels.SHIPMENT_DELIVERED]: {
			group: "notifications",
			handler(this: NotificationsService, shipment: ShipmentFact) {
				return this.notify("order-delivered", { ...shipment });
			},
		},
	},

	methods: {
		async notify(this: NotificationsService, template, data): Promise<void> {
			const id = `${template}:${data.orderId ?? data.userId}`;
			const { subject, body } = render(template, data);
			const now = new Date().toISOString();
			// Already there: this fact was handled before; send only if that attempt died before sending.
			if (!(await insertIfAbsent(this.adapter.insert({ _id: id, userId: data.userId, channel: "email", to: data.email, template, subject, body, orderId: data.orderId, factId: data.factId, status: "PENDING", createdAt: now, updatedAt: now })))) {
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
