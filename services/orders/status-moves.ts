// The order status machine: which status may follow which, and on what
// condition. Every move is written as one conditional update (the order still
// in `from` and meeting the guard), so of two nodes moving the same order only
// one succeeds; the other learns so from a null.
import type { OrderStatus } from "../../lib/contract/contract";
import type { OrderDoc } from "./order";

export type StatusMove = "confirm" | "abandonCheckout" | "cancelByCustomer" | "ship" | "deliver";

export interface StatusRule {
	from: OrderStatus[];
	to: OrderStatus;
	/** Further conditions on the order document, as a query. */
	guard?: Record<string, unknown>;
}

// A customer's cancel in progress has claimed the order: the carrier's news waits for its outcome.
const NO_CANCEL_REQUESTED = { cancelRequested: { $ne: true } };

export const STATUS_MOVES: Record<StatusMove, StatusRule> = {
	/** The saga's last step: stock committed, payment captured. */
	confirm: { from: ["PENDING"], to: "CONFIRMED" },
	/** A checkout the saga gave up (out of stock, declined, provider down), compensated first. */
	abandonCheckout: { from: ["PENDING"], to: "CANCELLED" },
	/** Only a confirmed order; the claim on cancelRequested keeps it from shipping meanwhile. */
	cancelByCustomer: { from: ["CONFIRMED"], to: "CANCELLED" },
	ship: { from: ["CONFIRMED"], to: "SHIPPED", guard: NO_CANCEL_REQUESTED },
	/** From CONFIRMED too: the delivered fact may overtake the shipped one. */
	deliver: { from: ["CONFIRMED", "SHIPPED"], to: "DELIVERED", guard: NO_CANCEL_REQUESTED },
};

export interface OrderFactDraft {
	channel: string;
	/** The fact's payload but for its id, which the outbox gives it. */
	payload: Record<string, unknown>;
}

/** A move as the store writes it: the rule, the fields that change with it and the fact it announces. */
export interface StatusChange extends StatusRule {
	set: Record<string, unknown>;
	/** Recorded in the same write as the move, published after it. */
	fact?: OrderFactDraft;
}

export interface MoveRequest {
	move: StatusMove;
	set?: Record<string, unknown>;
	fact?: OrderFactDraft;
}

export interface StatusStore {
	/** One conditional update with its history entry; the order as it became, or null when it did not move. */
	writeMove(order: OrderDoc, change: StatusChange): Promise<OrderDoc | null>;
}

/** Moves `order` as the table allows `move`; null when it is no longer where the move starts. */
export function moveStatus(store: StatusStore, order: OrderDoc, { move, set = {}, fact }: MoveRequest): Promise<OrderDoc | null> {
	return store.writeMove(order, { ...STATUS_MOVES[move], set, ...(fact && { fact }) });
}
