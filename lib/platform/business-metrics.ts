// Business metrics beside Moleculer's own: what an operator watches to see
// the shop work (orders per minute, declines, stock pressure). Counters, so
// Prometheus' rate() gives per-minute figures across every node.
import type { ServiceBroker } from "moleculer";

interface CounterDefinition {
	name: string;
	description: string;
	labelNames: string[];
}

export const ORDERS: CounterDefinition = { name: "shop_orders_total", description: "Orders entering a status", labelNames: ["status"] };
export const PAYMENTS: CounterDefinition = { name: "shop_payments_total", description: "Payments reaching an outcome", labelNames: ["outcome"] };
export const STOCK_RESERVATIONS: CounterDefinition = {
	name: "shop_stock_reservations_total",
	description: "Stock reservation steps by outcome (reserved, rejected, committed, released, restocked, expired)",
	labelNames: ["outcome"],
};

/** Counts one event (or `value`) when this node reports metrics. */
export function countEvent(broker: ServiceBroker, counter: CounterDefinition, labels: Record<string, string>, value = 1): void {
	if (!broker.isMetricsEnabled() || value === 0) return;
	if (!broker.metrics.getMetric(counter.name)) broker.metrics.register({ type: "counter", ...counter });
	broker.metrics.increment(counter.name, labels, value);
}
