// The invariants of docs/architecture.md, "Invariants", checked through the
// services' actions (never their databases), for tests and the REPL.
// Meaningful once the cluster has settled: no saga in flight.
import { PAID_STATUSES } from "../../services/orders/order";
import type { Notification, Order, Page, Payment, Shipment, StockLevel } from "../contract/contract";

export type Call = <T>(action: string, params?: Record<string, unknown>) => Promise<T>;

export interface ConsistencyReport {
	ok: boolean;
	violations: string[];
	counts: {
		orders: number;
		pending: number;
		confirmed: number;
		cancelled: number;
		payments: number;
		shipments: number;
		notifications: number;
		products: number;
	};
}

export async function everything<T>(call: Call, action: string): Promise<T[]> {
	const all: T[] = [];
	for (let page = 1; ; page++) {
		const result = await call<T[] | Page<T>>(action, { page, pageSize: 500 });
		const rows = Array.isArray(result) ? result : result.rows;
		all.push(...rows);
		if (rows.length < 500) return all;
	}
}

/** Documents holding unpublished facts, per service with an outbox (mixins/outbox.mixin.ts) that the cluster runs. */
async function outboxBacklogs(call: Call): Promise<[string, number][]> {
	const actions = await call<{ name: string }[]>("$node.actions", { onlyAvailable: true, skipInternal: true });
	const backlogs = actions.filter(action => action.name.endsWith(".outboxBacklog")).map(action => action.name);
	return Promise.all(backlogs.map(async action => [action.split(".")[0], await call<number>(action)] as [string, number]));
}

export async function checkConsistency(call: Call): Promise<ConsistencyReport> {
	const [orders, payments, shipments, notifications, levels, backlogs] = await Promise.all([
		everything<Order>(call, "orders.all"),
		everything<Payment>(call, "payments.all"),
		everything<Shipment>(call, "shipping.all"),
		everything<Notification>(call, "notifications.all"),
		everything<StockLevel>(call, "inventory.all"),
		outboxBacklogs(call),
	]);
	const violations: string[] = [];
	for (const [service, backlog] of backlogs) if (backlog > 0) violations.push(`${service}: ${backlog} documents hold facts not yet published`);
	const paymentOf = new Map(payments.map(p => [p.orderId, p]));
	const shipmentsOf = new Map<string, Shipment[]>();
	for (const s of shipments) shipmentsOf.set(s.orderId, [...(shipmentsOf.get(s.orderId) ?? []), s]);
	const confirmationsOf = new Map<string, number>();
	for (const n of notifications) if (n.template === "order-confirmed" && n.orderId) confirmationsOf.set(n.orderId, (confirmationsOf.get(n.orderId) ?? 0) + 1);
	const soldOf = new Map<string, number>();

	for (const order of orders) {
		const payment = paymentOf.get(order.id);
		if (order.status === "PENDING") {
			violations.push(`order ${order.id} is still PENDING`);
			continue;
		}
		if (PAID_STATUSES.includes(order.status)) {
			if (payment?.status !== "CAPTURED") violations.push(`order ${order.id} is ${order.status} but its payment is ${payment?.status ?? "missing"}`);
			const count = shipmentsOf.get(order.id)?.length ?? 0;
			if (count !== 1) violations.push(`order ${order.id} is ${order.status} with ${count} shipments`);
			const mails = confirmationsOf.get(order.id) ?? 0;
			if (mails !== 1) violations.push(`order ${order.id} is ${order.status} with ${mails} confirmation messages`);
			for (const item of order.items) soldOf.set(item.productId, (soldOf.get(item.productId) ?? 0) + item.quantity);
		} else if (payment?.status === "CAPTURED") {
			violations.push(`order ${order.id} is CANCELLED but its payment is still CAPTURED`);
		}
	}
	const orderIds = new Set(orders.map(o => o.id));
	for (const p of payments) if (p.status === "CAPTURED" && !orderIds.has(p.orderId)) violations.push(`payment for unknown order ${p.orderId} is CAPTURED`);

	for (const level of levels) {
		if (level.available + level.reserved + level.sold !== level.received) {
			violations.push(
				`product ${level.productId}: available ${level.available} + reserved ${level.reserved} + sold ${level.sold} != received ${level.received}`,
			);
		}
		if (level.available < 0 || level.reserved < 0 || level.sold < 0) violations.push(`product ${level.productId} has a negative count`);
		const sold = soldOf.get(level.productId) ?? 0;
		if (level.sold !== sold) violations.push(`product ${level.productId}: sold ${level.sold} but paid orders hold ${sold}`);
		if (!orders.some(o => o.status === "PENDING") && level.reserved !== 0)
			violations.push(`product ${level.productId} has ${level.reserved} units reserved with no order in flight`);
	}

	const count = (statuses: string[]) => orders.filter(o => statuses.includes(o.status)).length;
	return {
		ok: violations.length === 0,
		violations,
		counts: {
			orders: orders.length,
			pending: count(["PENDING"]),
			confirmed: count(PAID_STATUSES),
			cancelled: count(["CANCELLED"]),
			payments: payments.length,
			shipments: shipments.length,
			notifications: notifications.length,
			products: levels.length,
		},
	};
}
