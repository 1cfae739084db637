// Stock rules on a real NeDB store: all-or-nothing, idempotent, conserved.
import { ServiceMemoryAdapter } from "../../lib/platform/service-memory-adapter";
import * as stock from "../../services/inventory/stock";

async function store(): Promise<stock.StockStore> {
	const adapter = new ServiceMemoryAdapter() as unknown as stock.StockStore & { connect(): Promise<void> };
	await adapter.connect();
	return adapter;
}

const level = async (s: stock.StockStore, productId: string) => stock.toStockLevel((await s.findById(stock.stockId(productId))) as stock.StockDoc, productId);

describe("stock", () => {
	it("reserves all lines or none, and repeating a reservation changes nothing", async () => {
		const s = await store();
		await stock.seedStock(s, "a", 5);
		await stock.seedStock(s, "b", 1);
		await expect(
			stock.reserve(
				s,
				"o1",
				[
					{ productId: "a", quantity: 2 },
					{ productId: "b", quantity: 2 },
				],
				60_000,
			),
		).rejects.toMatchObject({ type: "OUT_OF_STOCK" });
		expect(await level(s, "a")).toMatchObject({ available: 5, reserved: 0 });
		await stock.reserve(
			s,
			"o2",
			[
				{ productId: "a", quantity: 2 },
				{ productId: "b", quantity: 1 },
			],
			60_000,
		);
		await stock.reserve(
			s,
			"o2",
			[
				{ productId: "a", quantity: 2 },
				{ productId: "b", quantity: 1 },
			],
			60_000,
		);
		expect(await level(s, "a")).toMatchObject({ available: 3, reserved: 2 });
	});

	it("commits held units as sold once, and restocks a cancelled order once", async () => {
		const s = await store();
		await stock.seedStock(s, "a", 5);
		await stock.reserve(s, "o1", [{ productId: "a", quantity: 2 }], 60_000);
		await stock.commit(s, "o1");
		await stock.commit(s, "o1");
		expect(await level(s, "a")).toEqual({ productId: "a", available: 3, reserved: 0, sold: 2, received: 5 });
		await stock.release(s, "o1"); // a committed order is not released
		await stock.restock(s, "o1");
		await stock.restock(s, "o1");
		expect(await level(s, "a")).toEqual({ productId: "a", available: 5, reserved: 0, sold: 0, received: 5 });
	});

	it("puts expired reservations back on sale, after which the order cannot commit", async () => {
		const s = await store();
		await stock.seedStock(s, "a", 3);
		await stock.reserve(s, "late", [{ productId: "a", quantity: 3 }], -1);
		expect(await stock.releaseExpired(s)).toBe(1);
		expect(await level(s, "a")).toMatchObject({ available: 3, reserved: 0 });
		await expect(stock.commit(s, "late")).rejects.toMatchObject({ type: "RESERVATION_GONE" });
	});

	it("lets exactly as many concurrent orders through as there are units", async () => {
		const s = await store();
		await stock.seedStock(s, "a", 3);
		const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => stock.reserve(s, `o${i}`, [{ productId: "a", quantity: 1 }], 60_000)));
		expect(results.filter(r => r.status === "fulfilled")).toHaveLength(3);
		expect(await level(s, "a")).toMatchObject({ available: 0, reserved: 3, received: 3 });
	});
});

describe("stock under racing operations", () => {
	it("lets exactly one of commit and expiry win, and leaves stock conserved either way", async () => {
		for (let round = 0; round < 5; round++) {
			const s = await store();
			await stock.seedStock(s, "a", 4);
			await stock.seedStock(s, "b", 4);
			await stock.reserve(
				s,
				"o",
				[
					{ productId: "a", quantity: 2 },
					{ productId: "b", quantity: 2 },
				],
				-1,
			);
			const [committed] = await Promise.allSettled([stock.commit(s, "o"), stock.releaseExpired(s)]);
			const [a, b] = [await level(s, "a"), await level(s, "b")];
			for (const l of [a, b]) expect(l.available + l.reserved + l.sold).toBe(4);
			if (committed.status === "fulfilled") expect([a.sold, b.sold, a.reserved, b.reserved]).toEqual([2, 2, 0, 0]);
			else expect([a.available, b.available, a.sold, b.sold]).toEqual([4, 4, 0, 0]);
		}
	});

	it("finishes a commit that a crash cut short after claiming it, selling every line once", async () => {
		const s = await store();
		await stock.seedStock(s, "a", 4);
		await stock.seedStock(s, "b", 4);
		await stock.reserve(
			s,
			"o",
			[
				{ productId: "a", quantity: 1 },
				{ productId: "b", quantity: 3 },
			],
			60_000,
		);
		// The node claimed the reservation and sold line a, then died.
		await s.updateMany({ _id: stock.reservationId("o") }, { $set: { state: "COMMITTED" } });
		await s.updateMany({ _id: stock.stockId("a") }, { $inc: { reserved: -1, sold: 1 }, $unset: { "holds.o": true } });
		await stock.commit(s, "o"); // the saga, driven again by another node
		await stock.commit(s, "o");
		expect(await level(s, "a")).toMatchObject({ available: 3, reserved: 0, sold: 1 });
		expect(await level(s, "b")).toMatchObject({ available: 1, reserved: 0, sold: 3 });
	});

	it("restocks a committed order even after an expiry sweep ran", async () => {
		const s = await store();
		await stock.seedStock(s, "a", 3);
		await stock.reserve(s, "o", [{ productId: "a", quantity: 2 }], 60_000);
		await stock.commit(s, "o");
		await stock.releaseExpired(s, new Date(Date.now() + 3_600_000));
		await stock.restock(s, "o");
		expect(await level(s, "a")).toEqual({ productId: "a", available: 3, reserved: 0, sold: 0, received: 3 });
	});

	it("leaves no holds behind when a reservation is released while it is being made", async () => {
		const s = await store();
		await stock.seedStock(s, "a", 5);
		const reserving = stock.reserve(s, "o", [{ productId: "a", quantity: 2 }], 60_000);
		const releasing = stock.release(s, "o");
		await Promise.allSettled([reserving, releasing]);
		await stock.release(s, "o");
		const l = await level(s, "a");
		expect(l.available + l.reserved).toBe(5);
		const reservation = (await s.findById(stock.reservationId("o"))) as stock.ReservationDoc;
		if (reservation.state === "RELEASED") expect(l).toMatchObject({ available: 5, reserved: 0 });
	});
});
