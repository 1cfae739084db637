// Steering calls away from a replica that stopped answering.
//
// A SIGKILLed node (or one cut off the network) stays in the registry until its
// heartbeats are missed (heartbeatTimeout, 15 s); until then round robin keeps
// sending it a share of the calls. Each waits out its timeout, and a retry may
// land on the dead node again. Moleculer's circuit breaker does not help: it
// sits inside the timeout middleware and never sees a call time out.
//
// So: a call whose timeout expires while the node has not answered marks that
// node unresponsive for a few seconds (renewed by every further timeout, ended
// by any answer), and the balancer picks among the other replicas meanwhile.
// With every replica unresponsive it picks among all of them as before.
// Each such call is counted per node: the series an operator watches (and
// alerts on) for a node that takes calls and never answers them.
import { Strategies, type Context, type Middleware, type ServiceBroker } from "moleculer";
import { countEvent } from "./business-metrics";

type Endpoint = Parameters<Strategies.RoundRobin["select"]>[0][number];

/** How long a node whose call timed out is passed over. */
export const UNRESPONSIVE_MS = 5000;

export const UNANSWERED_CALLS = {
	name: "shop_unanswered_calls_total",
	description: "Calls a node did not answer within their timeout (the balancer then passes it over for a while)",
	labelNames: ["affectedNodeID"],
};

/** nodeID -> until when it is passed over, per broker. */
const unresponsive = new WeakMap<ServiceBroker, Map<string, number>>();

function marks(broker: ServiceBroker): Map<string, number> {
	let map = unresponsive.get(broker);
	if (!map) unresponsive.set(broker, (map = new Map()));
	return map;
}

export function isUnresponsive(broker: ServiceBroker, nodeID: string, now = Date.now()): boolean {
	const until = marks(broker).get(nodeID);
	return until !== undefined && until > now;
}

/** Watches every remote call: no answer within its timeout marks the node. */
export function UnresponsiveNodesMiddleware(): Middleware {
	return {
		name: "UnresponsiveNodes",
		// User middlewares wrap innermost: this sees the transit request itself,
		// with the timeout the Timeout middleware has already decided.
		remoteAction(this: ServiceBroker, handler: (ctx: Context) => Promise<unknown>) {
			return (ctx: Context) => {
				const timeout = Number(ctx.options.timeout);
				const nodeID = ctx.nodeID;
				if (!(timeout > 0) || !nodeID) return handler(ctx);
				const timer = setTimeout(() => {
					marks(this).set(nodeID, Date.now() + UNRESPONSIVE_MS);
					countEvent(this, UNANSWERED_CALLS, { affectedNodeID: nodeID });
				}, timeout);
				timer.unref();
				const settled = (answered: boolean) => {
					clearTimeout(timer);
					if (answered) marks(this).delete(nodeID); // it answers again
				};
				return handler(ctx).then(
					result => {
						settled(true);
						return result;
					},
					(err: { type?: string }) => {
						// An error from the node is an answer too; a rejection because the node left is not.
						settled(err?.type !== "REQUEST_REJECTED");
						throw err;
					},
				);
			};
		},
	} as Middleware;
}

/** Round robin over the replicas that answer, or over all when none does. */
export class ResponsiveRoundRobin extends Strategies.RoundRobin {
	select(list: Endpoint[]): Endpoint {
		const now = Date.now();
		const responsive = list.filter(endpoint => endpoint.local || !isUnresponsive(this.broker, endpoint.id, now));
		return super.select(responsive.length > 0 ? responsive : list);
	}
}
