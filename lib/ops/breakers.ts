// The REPL's `breakers`: each node's circuit breakers, as that node sees the
// endpoints it calls.
import type { ServiceBroker } from "moleculer";
import { NODE_CALL, type NodeInfo } from "./node-call";
import { errorText, table, type Paint, type ReplHelpers } from "./repl-output";

interface ActionInfo {
	name: string;
	endpoints?: { nodeID: string; state: boolean; available: boolean }[];
}

/** An item of the circuit-breaker middleware's store (moleculer/src/middlewares/circuit-breaker.js). */
interface BreakerItem {
	ep: { id: string; action: { name: string } };
	count: number;
	failures: number;
	state: "close" | "half_open" | "half_open_wait" | "open";
}

interface MetricInfo {
	values: { value: number }[];
}

export type BreakerState = "OPEN" | "HALF_OPEN" | "CLOSED";

export interface BreakerEndpoint {
	action: string;
	nodeID: string;
	state: BreakerState;
	/** Failed and total calls in the current window; only known for this REPL node's own breaker. */
	failures?: number;
	requests?: number;
}

export interface BreakerView {
	/** The node whose breaker this is: it guards the calls *this* node makes. */
	nodeID: string;
	local: boolean;
	endpoints: number;
	/** Endpoints this node has stopped calling, plus (for the REPL node) those with failures in the window. */
	tripped: BreakerEndpoint[];
	/** Times this node's breakers opened since it started (needs METRICS_PORT on that node). */
	openedTotal: number | null;
	error?: string;
}

const BREAKER_STATE: Record<BreakerItem["state"], BreakerState> = { close: "CLOSED", half_open: "HALF_OPEN", half_open_wait: "HALF_OPEN", open: "OPEN" };

/**
 * Each node's view of the endpoints it calls: `$node.actions` on that node
 * (an endpoint whose breaker opened is marked unavailable there) and its
 * breaker metrics; this node's own breaker store adds failure counts.
 */
export async function breakerViews(broker: ServiceBroker): Promise<BreakerView[]> {
	const nodes = (await broker.call<NodeInfo[], object>("$node.list", { onlyAvailable: true })).sort((a, b) => a.id.localeCompare(b.id));
	return Promise.all(
		nodes.map(async (node): Promise<BreakerView> => {
			const view: BreakerView = { nodeID: node.id, local: node.local, endpoints: 0, tripped: [], openedTotal: null };
			try {
				const actions = await broker.call<ActionInfo[], object>(
					"$node.actions",
					{ skipInternal: true, withEndpoints: true },
					{ nodeID: node.id, ...NODE_CALL },
				);
				for (const action of actions) {
					for (const ep of action.endpoints ?? []) {
						view.endpoints++;
						if (!ep.state) view.tripped.push({ action: action.name, nodeID: ep.nodeID, state: "OPEN" });
					}
				}
			} catch (err) {
				view.error = errorText(err);
			}
			if (node.local) view.tripped = localBreakers(broker);
			view.openedTotal = await openedTotal(broker, node.id);
			return view;
		}),
	);
}

function localBreakers(broker: ServiceBroker): BreakerEndpoint[] {
	const store = (broker as unknown as { CircuitBreakerStore?: Map<string, BreakerItem> }).CircuitBreakerStore;
	return [...(store?.values() ?? [])]
		.filter(item => item.state !== "close" || item.failures > 0)
		.map(item => ({ action: item.ep.action.name, nodeID: item.ep.id, state: BREAKER_STATE[item.state], failures: item.failures, requests: item.count }))
		.sort((a, b) => a.action.localeCompare(b.action) || a.nodeID.localeCompare(b.nodeID));
}

async function openedTotal(broker: ServiceBroker, nodeID: string): Promise<number | null> {
	try {
		const metrics = await broker.call<MetricInfo[], object>(
			"$node.metrics",
			{ includes: ["moleculer.circuit-breaker.opened.total"] },
			{ nodeID, ...NODE_CALL },
		);
		return metrics.flatMap(metric => metric.values).reduce((sum, { value }) => sum + value, 0);
	} catch {
		return null; // METRICS_DISABLED: the node counts nothing
	}
}

export function printBreakers(views: BreakerView[], { kleur, ...helpers }: ReplHelpers): void {
	console.log(kleur.gray("Each node's breaker guards the calls that node makes; OPEN: it sends nothing there until a probe succeeds."));
	console.log(
		table(helpers, [
			["Seen by", "Endpoints", "Open", "Opened since start"].map(kleur.bold),
			...views.map(view => [
				view.local ? `${view.nodeID} (*)` : view.nodeID,
				view.error ? kleur.yellow(`NO ANSWER: ${view.error}`) : String(view.endpoints),
				String(view.tripped.filter(ep => ep.state !== "CLOSED").length),
				view.openedTotal == null ? "-" : String(view.openedTotal),
			]),
		]),
	);
	const tripped = views.flatMap(view => view.tripped.map(ep => ({ ...ep, seenBy: view.local ? `${view.nodeID} (*)` : view.nodeID })));
	if (tripped.length === 0) {
		console.log(kleur.green("No circuit breaker is open."));
		return;
	}
	const paint: Record<BreakerState, Paint> = { OPEN: kleur.red, HALF_OPEN: kleur.yellow, CLOSED: kleur.green };
	console.log(
		table(helpers, [
			["Seen by", "Action", "On node", "State", "Failures / calls"].map(kleur.bold),
			...tripped.map(ep => [ep.seenBy, ep.action, ep.nodeID, paint[ep.state](ep.state), ep.requests == null ? "-" : `${ep.failures} / ${ep.requests}`]),
		]),
	);
}
