// Stock rules on a real NeDB store: all-or-nothing, idempotent, conserved.
import { MemoryAdapter } from "moleculer-db";
import * as stock from "../../lib/stock";

async function store(): Promise<stock.StockStore> {
	const adapter = new MemoryAdapter() as unknown as stock.StockStore & { connect(): Promise<void> };
	await adapter.connect();
	return adapter;
}

const level = async (s: stock.StockStore, productId: string) => stock.toLevel((await s.findById(stock.stockId(productId))) as stock.StockDoc, productId);

describe("stock", () => {
	it("reserves all lines or none, and repeating a reservation changes nothing", async () => {
		const s = await store();
		await stock.seedStock(s, "a", 5);
		await stock.seedStock(s, "b", 1);
		await expect(stock.reserve(s, "o1", [{ productId: "a", quantity: 2 }, { productId: "b", quantity: 2 }], 60_000)).rejects.toMatchObject({ type: "OUT_OF_STOCK" });
		expect(await level(s, "a")).toMatchObject({ available: 5, reserved: 0 });
		await stock.reserve(s, "o2", [{ productId: "a", quantity: 2 }, { productId: "b", quantity: 1 }], 60_000);
		await stock.reserve(s, "o2", [{ productId: "a", quantity: 2 }, { productId: "b", quantity: 1 }], 60_000);
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
