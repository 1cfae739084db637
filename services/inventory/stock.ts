// Stock rules on top of single-document atomic updates (no transactions, no
// read-then-write in JavaScript). A product's stock document keeps the units
// held per order in `holds.<orderId>`, so reserving, committing and releasing
// are each one conditional update of one document: of two orders racing for
// the last unit, exactly one update matches. A reservation document per order
// records what was asked, for idempotency and for expiry.
import { Errors } from "moleculer";
import type { StockLevel } from "../../lib/contract/contract";
import { insertIfAbsent } from "../../lib/platform/db-errors";

export interface StockStore {
	findById(id: string): Promise<unknown>;
	find(filters: { query: Record<string, unknown>; limit?: number; offset?: number; sort?: string[] }): Promise<unknown[]>;
	insert(doc: Record<string, unknown>): Promise<unknown>;
	updateMany(query: Record<string, unknown>, update: Record<string, unknown>): Promise<number>;
	findOneAndUpdate(query: Record<string, unknown>, update: Record<string, unknown>): Promise<unknown>;
}

export interface StockDoc {
	_id: string;
	kind: "stock";
	productId: string;
	available: number;
	reserved: number;
	sold: number;
	received: number;
	holds: Record<string, number>;
}

/**
 * RESERVING -> RESERVED -> COMMITTED (-> RETURNING -> RELEASED), or -> RELEASING -> RELEASED.
 * COMMITTED is claimed before the held units become sold: a commit cut short
 * by a crash is finished by the saga's next commit, and nothing else acts on
 * a COMMITTED reservation before its order is confirmed.
 */
export type ReservationState = "RESERVING" | "RESERVED" | "COMMITTED" | "RELEASING" | "RETURNING" | "RELEASED";

export interface ReservationDoc {
	_id: string;
	kind: "reservation";
	orderId: string;
	items: { productId: string; quantity: number }[];
	state: ReservationState;
	expiresAt: string;
}

export const stockId = (productId: string) => `stock:${productId}`;
export const reservationId = (orderId: string) => `reservation:${orderId}`;
const hold = (orderId: string) => `holds.${orderId}`;

export function toStockLevel(doc: StockDoc | null, productId: string): StockLevel {
	return { productId, available: doc?.available ?? 0, reserved: doc?.reserved ?? 0, sold: doc?.sold ?? 0, received: doc?.received ?? 0 };
}

export function outOfStock(productId: string): Errors.MoleculerClientError {
	return new Errors.MoleculerClientError("Not enough stock for the order", 409, "OUT_OF_STOCK", { productId });
}

/** A product's stock document as it starts: `units` available, all received. */
function newStock(productId: string, units: number) {
	const now = new Date().toISOString();
	return {
		_id: stockId(productId),
		kind: "stock",
		productId,
		available: units,
		reserved: 0,
		sold: 0,
		received: units,
		holds: {},
		createdAt: now,
		updatedAt: now,
	};
}

/** Creates the stock document when missing (a no-op when another node was first). */
export async function ensureStock(store: StockStore, productId: string): Promise<void> {
	if (await store.findById(stockId(productId))) return;
	await insertIfAbsent(store.insert(newStock(productId, 0)));
}

/** Demo stock for a product that has none yet (development seeding). */
export async function seedStock(store: StockStore, productId: string, units: number): Promise<void> {
	await insertIfAbsent(store.insert(newStock(productId, units)));
}

/** Sets the available units to `target`, as one conditional update against the value read. */
export async function setAvailable(store: StockStore, productId: string, target: number): Promise<StockLevel> {
	await ensureStock(store, productId);
	for (let attempt = 0; attempt < 5; attempt++) {
		const doc = (await store.findById(stockId(productId))) as StockDoc;
		const delta = target - doc.available;
		if (delta === 0) return toStockLevel(doc, productId); // MongoDB counts a no-op update as "0 modified"
		if ((await store.updateMany({ _id: stockId(productId), available: doc.available }, { $inc: { available: delta, received: delta } })) === 1) {
			return toStockLevel((await store.findById(stockId(productId))) as StockDoc, productId);
		}
	}
	throw new Errors.MoleculerRetryableError("Stock changed concurrently; try again", 409, "STOCK_BUSY", { productId });
}

/** Adds (or with a negative delta removes) available units; never below zero. */
export async function adjustStock(store: StockStore, productId: string, delta: number): Promise<StockLevel> {
	await ensureStock(store, productId);
	const condition = delta < 0 ? { available: { $gte: -delta } } : {};
	const changed = await store.updateMany(
		{ _id: stockId(productId), ...condition },
		{ $inc: { available: delta, received: delta }, $set: { updatedAt: new Date().toISOString() } },
	);
	if (changed !== 1) throw new Errors.MoleculerClientError("Cannot remove more units than are available", 409, "INSUFFICIENT_STOCK", { productId });
	return toStockLevel((await store.findById(stockId(productId))) as StockDoc, productId);
}

async function holdUnits(store: StockStore, orderId: string, productId: string, quantity: number): Promise<boolean> {
	const changed = await store.updateMany(
		{ _id: stockId(productId), available: { $gte: quantity }, [hold(orderId)]: { $exists: false } },
		{ $inc: { available: -quantity, reserved: quantity }, $set: { [hold(orderId)]: quantity } },
	);
	if (changed === 1) return true;
	// Already held for this order by an earlier attempt: that is success too.
	const doc = (await store.findById(stockId(productId))) as StockDoc | null;
	return doc?.holds?.[orderId] === quantity;
}

async function releaseUnits(store: StockStore, orderId: string, productId: string): Promise<void> {
	const doc = (await store.findById(stockId(productId))) as StockDoc | null;
	const quantity = doc?.holds?.[orderId];
	if (quantity == null) return;
	await store.updateMany(
		{ _id: stockId(productId), [hold(orderId)]: quantity },
		{ $inc: { available: quantity, reserved: -quantity }, $unset: { [hold(orderId)]: true } },
	);
}

/** The reservation moves from one of `from` to `to`, or stays where it is: [condition, update]. */
function stateChange(orderId: string, from: ReservationState[], to: ReservationState): [Record<string, unknown>, Record<string, unknown>] {
	return [{ _id: reservationId(orderId), state: { $in: from } }, { $set: { state: to, updatedAt: new Date().toISOString() } }];
}

async function setState(store: StockStore, orderId: string, from: ReservationState[], to: ReservationState): Promise<boolean> {
	return (await store.updateMany(...stateChange(orderId, from, to))) === 1;
}

/** setState that returns the reservation as it became (null: it was not in `from`). */
async function moveState(store: StockStore, orderId: string, from: ReservationState[], to: ReservationState): Promise<ReservationDoc | null> {
	return (await store.findOneAndUpdate(...stateChange(orderId, from, to))) as ReservationDoc | null;
}

/** All of the order's items or none; safe to repeat for the same order. */
export async function reserve(store: StockStore, orderId: string, items: { productId: string; quantity: number }[], ttlMs: number): Promise<ReservationDoc> {
	const now = new Date();
	const fresh: ReservationDoc = {
		_id: reservationId(orderId),
		kind: "reservation",
		orderId,
		items,
		state: "RESERVING",
		expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
	};
	const inserted = await insertIfAbsent(store.insert({ ...fresh, createdAt: now.toISOString(), updatedAt: now.toISOString() }));
	// A repeat finds the first attempt's reservation, whatever became of it.
	const reservation = inserted ? fresh : ((await store.findById(reservationId(orderId))) as ReservationDoc);
	if (reservation.state !== "RESERVING") {
		if (["RESERVED", "COMMITTED"].includes(reservation.state)) return reservation;
		throw outOfStock(reservation.items[0]?.productId ?? "");
	}

	// A fixed order (by product id) so two orders never hold parts of each other's lines.
	const lines = [...reservation.items].sort((a, b) => a.productId.localeCompare(b.productId));
	const giveBack = async () => {
		for (const line of lines) await releaseUnits(store, orderId, line.productId);
	};
	for (const line of lines) {
		if (!(await holdUnits(store, orderId, line.productId, line.quantity))) {
			await giveBack();
			await setState(store, orderId, ["RESERVING"], "RELEASED");
			throw outOfStock(line.productId);
		}
	}
	const reserved = await moveState(store, orderId, ["RESERVING"], "RESERVED");
	if (reserved) return reserved;
	// Released (expired) while we were holding: our holds must not outlive it.
	const current = (await store.findById(reservationId(orderId))) as ReservationDoc;
	if (current.state === "RESERVED" || current.state === "COMMITTED") return current;
	await giveBack();
	throw outOfStock(lines[0]?.productId ?? "");
}

/**
 * Takes the reservation from one of `from` to `claim` in one update, so of two
 * operations racing on it (commit and expiry, say) exactly one proceeds. Also
 * proceeds when the state already is `claim`: a run cut short by a crash.
 */
async function claimState(store: StockStore, orderId: string, from: ReservationState[], claim: ReservationState): Promise<ReservationDoc | null> {
	const claimed = await moveState(store, orderId, from, claim);
	if (claimed) return claimed;
	const reservation = (await store.findById(reservationId(orderId))) as ReservationDoc | null;
	return reservation?.state === claim ? reservation : null;
}

/** Held units become sold; repeating it finishes what a crash cut short. Fails when the reservation was released (e.g. expired). */
export async function commit(store: StockStore, orderId: string): Promise<void> {
	const reservation = await claimState(store, orderId, ["RESERVED"], "COMMITTED");
	if (!reservation) throw new Errors.MoleculerClientError("The stock reservation is gone (expired or released)", 409, "RESERVATION_GONE", { orderId });
	const sell = (productId: string, quantity: number) =>
		store.updateMany(
			{ _id: stockId(productId), [hold(orderId)]: quantity },
			{ $inc: { reserved: -quantity, sold: quantity }, $unset: { [hold(orderId)]: true } },
		);
	for (const line of reservation.items) {
		// The hold is the line's quantity (reserve set it so): one update. Otherwise read what is held.
		if ((await sell(line.productId, line.quantity)) === 1) continue;
		const doc = (await store.findById(stockId(line.productId))) as StockDoc | null;
		const quantity = doc?.holds?.[orderId];
		if (quantity != null) await sell(line.productId, quantity); // else sold by an earlier attempt
	}
}

/** Held units go back on sale; a no-op for a committed or unknown order. */
export async function release(store: StockStore, orderId: string): Promise<void> {
	const reservation = await claimState(store, orderId, ["RESERVING", "RESERVED"], "RELEASING");
	if (!reservation) return;
	for (const line of reservation.items) await releaseUnits(store, orderId, line.productId);
	await setState(store, orderId, ["RELEASING"], "RELEASED");
}

/** Sold units of a cancelled order go back on sale, once. */
export async function restock(store: StockStore, orderId: string): Promise<void> {
	const reservation = await claimState(store, orderId, ["COMMITTED"], "RETURNING");
	if (!reservation) return release(store, orderId);
	// Each line is marked as returned in the same update, so a repeat after a crash skips it.
	for (const line of reservation.items) {
		await store.updateMany(
			{ _id: stockId(line.productId), [`returned.${orderId}`]: { $exists: false } },
			{ $inc: { sold: -line.quantity, available: line.quantity }, $set: { [`returned.${orderId}`]: line.quantity } },
		);
	}
	await setState(store, orderId, ["RETURNING"], "RELEASED");
}

/** Reservations never committed before their expiry: their units go back on sale. */
export async function releaseExpired(store: StockStore, now = new Date()): Promise<number> {
	// Also releases left half-done by a crash (RELEASING), whatever their expiry.
	// The state pins the index: only reservations still in flight are read.
	const expired = (await store.find({
		query: { state: { $in: ["RESERVING", "RESERVED", "RELEASING"] }, $or: [{ state: "RELEASING" }, { expiresAt: { $lt: now.toISOString() } }] },
		limit: 100,
	})) as ReservationDoc[];
	for (const reservation of expired) await release(store, reservation.orderId);
	return expired.length;
}
