// The catalog at the broker level, on NeDB and on the MongoDB server alike.
import ProductsService from "../../services/products/products.service";
import { describeEachDatabase, startApp, type TestApp } from "../support/app";
import type { Page, Product } from "../../lib/contract/contract";
import { demoCatalog } from "../../services/products/demo-catalog";

const lamp = { sku: "TEST-LAMP", name: "Desk Lamp (LED)", description: "Warm light.", price: 4599, currency: "EUR", category: "home" };

async function rejection(promise: Promise<unknown>): Promise<{ code: number; type: string; data: unknown; message: string }> {
	try {
		await promise;
	} catch (err) {
		return err as never;
	}
	throw new Error("expected the call to fail");
}

function fieldsOf(err: { data: unknown }): string[] {
	return (err.data as { field: string }[]).map(item => item.field);
}

describeEachDatabase("products service", backend => {
	let app: TestApp;
	const list = (params: object = {}) => app.broker.call<Page<Product>, object>("products.list", params);

	beforeAll(async () => {
		app = await startApp([ProductsService], backend.env());
	});
	afterAll(() => app.stop());

	it("seeds the demo catalog into an empty collection", async () => {
		const page = await list({ pageSize: 100 });
		expect(page.total).toBe(demoCatalog().length);
		expect(new Set(page.rows.map(p => p.category)).size).toBeGreaterThanOrEqual(5);
		expect(page.rows[0]).toEqual({
			id: expect.any(String),
			sku: expect.any(String),
			name: expect.any(String),
			description: expect.any(String),
			price: expect.any(Number),
			currency: "USD",
			category: expect.any(String),
			createdAt: expect.any(String),
			updatedAt: expect.any(String),
		});
	});

	it("creates a product with a string id and timestamps, and reads it back", async () => {
		const created = await app.broker.call<Product, object>("products.create", lamp);
		expect(created).toMatchObject({ ...lamp, id: expect.any(String) });
		expect(Date.parse(created.createdAt)).not.toBeNaN();
		await expect(app.broker.call("products.get", { id: created.id })).resolves.toEqual(created);
	});

	it("refuses a second product with the same sku with 409 CONFLICT", async () => {
		const err = await rejection(app.broker.call("products.create", { ...lamp, name: "Another lamp" }));
		expect(err).toMatchObject({ code: 409, type: "CONFLICT" });
	});

	it("never stores fields a client should not set", async () => {
		const created = await app.broker.call<Product & Record<string, unknown>, object>("products.create", {
			...lamp,
			sku: "TEST-STRIP",
			_id: "chosen-id",
			id: "chosen-id",
			createdAt: "1999-01-01T00:00:00.000Z",
			role: "admin",
		});
		expect(created.id).not.toBe("chosen-id");
		expect(created.createdAt).not.toBe("1999-01-01T00:00:00.000Z");
		expect(created).not.toHaveProperty("role");
		expect(created).not.toHaveProperty("_id");
	});

	it("rejects invalid products with 422 naming each bad field", async () => {
		const err = await rejection(
			app.broker.call("products.create", { sku: "lower case", name: "", price: -1, category: "Not A Slug", currency: "dollars" }),
		);
		expect(err.code).toBe(422);
		expect(fieldsOf(err)).toEqual(expect.arrayContaining(["sku", "name", "price", "category", "currency"]));
		const fractional = await rejection(app.broker.call("products.create", { ...lamp, sku: "TEST-FRAC", price: 10.5 }));
		expect(fieldsOf(fractional)).toEqual(["price"]);
	});

	it("updates only the given fields and moves updatedAt", async () => {
		const created = await app.broker.call<Product, object>("products.create", { ...lamp, sku: "TEST-UPD" });
		await new Promise(resolve => setTimeout(resolve, 5));
		const updated = await app.broker.call<Product, object>("products.update", { id: created.id, price: 3999 });
		expect(updated).toEqual({ ...created, price: 3999, updatedAt: expect.any(String) });
		expect(updated.updatedAt > created.updatedAt).toBe(true);
	});

	it("answers 404 for an unknown id on get, update and remove", async () => {
		for (const [action, params] of [
			["products.get", {}],
			["products.update", { name: "x" }],
			["products.remove", {}],
		] as const) {
			const err = await rejection(app.broker.call(action, { id: "no-such-id", ...params }));
			expect(err).toMatchObject({ code: 404, type: "NOT_FOUND" });
		}
	});

	it("refuses an update with nothing to change with 422", async () => {
		const { rows } = await list({ pageSize: 1 });
		const err = await rejection(app.broker.call("products.update", { id: rows[0].id }));
		expect(err.code).toBe(422);
	});

	it("removes a product so it is gone from get and list", async () => {
		const created = await app.broker.call<Product, object>("products.create", { ...lamp, sku: "TEST-DEL", category: "doomed" });
		await expect(app.broker.call("products.remove", { id: created.id })).resolves.toMatchObject({ id: created.id });
		expect((await rejection(app.broker.call("products.get", { id: created.id }))).code).toBe(404);
		expect((await list({ category: "doomed" })).total).toBe(0);
	});

	it("filters by category and an inclusive price range", async () => {
		const books = await list({ category: "books", pageSize: 100 });
		expect(books.total).toBe(10);
		expect(books.rows.every(p => p.category === "books")).toBe(true);
		const mid = await list({ minPrice: 2000, maxPrice: 3000, pageSize: 100 });
		expect(mid.total).toBeGreaterThan(0);
		expect(mid.rows.every(p => p.price >= 2000 && p.price <= 3000)).toBe(true);
		const exact = await list({ minPrice: mid.rows[0].price, maxPrice: mid.rows[0].price, pageSize: 100 });
		expect(exact.rows.map(p => p.id)).toContain(mid.rows[0].id);
	});

	it("searches name, description and sku case-insensitively and literally", async () => {
		expect((await list({ q: "chef knife" })).rows.map(p => p.sku)).toEqual(["KITC-001"]);
		expect((await list({ q: "kitc-00" })).total).toBe(9);
		// Regex metacharacters are matched as text, never run as a pattern.
		await app.broker.call("products.create", { ...lamp, sku: "TEST-REGEX", name: "Bulb (E27)+" });
		expect((await list({ q: "(e27)+" })).rows.map(p => p.sku)).toEqual(["TEST-REGEX"]);
		expect((await list({ q: ".*" })).total).toBe(0);
	});

	it("sorts and pages so that pages neither repeat nor skip rows", async () => {
		const all = await list({ sort: "price", pageSize: 100 });
		const prices = all.rows.map(p => p.price);
		expect(prices).toEqual([...prices].sort((a, b) => a - b));
		const paged: string[] = [];
		for (let page = 1; page <= Math.ceil(all.total / 7); page++) {
			const result = await list({ sort: "price", page, pageSize: 7 });
			expect(result).toMatchObject({ page, pageSize: 7, total: all.total, totalPages: Math.ceil(all.total / 7) });
			paged.push(...result.rows.map(p => p.id));
		}
		expect(paged).toEqual(all.rows.map(p => p.id));
		const desc = await list({ sort: "-price", pageSize: 3 });
		expect(desc.rows[0].price).toBe(Math.max(...prices));
	});

	it("converts query-string numbers and rejects bad browse input with 422 naming the field", async () => {
		expect((await list({ page: "2", pageSize: "5" })).rows).toHaveLength(5);
		const cases: [object, string][] = [
			[{ pageSize: 101 }, "pageSize"],
			[{ pageSize: 0 }, "pageSize"],
			[{ page: "abc" }, "page"],
			[{ page: 0 }, "page"],
			[{ sort: "password" }, "sort"],
			[{ minPrice: -5 }, "minPrice"],
			[{ maxPrice: "cheap" }, "maxPrice"],
			[{ minPrice: 500, maxPrice: 100 }, "minPrice"],
			[{ q: "x".repeat(101) }, "q"],
			[{ category: "../etc" }, "category"],
		];
		for (const [params, field] of cases) {
			const err = await rejection(list(params));
			expect([err.code, fieldsOf(err)]).toEqual([422, [field]]);
		}
	});

	it("ignores unknown and operator-shaped browse params instead of querying with them", async () => {
		const all = await list({ pageSize: 1 });
		const injected = await list({ pageSize: 1, query: { price: { $gt: 1e9 } }, $where: "1" });
		expect(injected.total).toBe(all.total);
		const err = await rejection(list({ category: { $ne: "books" } }));
		expect(fieldsOf(err)).toEqual(["category"]);
	});

	it("serves repeated reads from the cache and drops them when the catalog changes", async () => {
		const before = await list({ category: "cached", pageSize: 10 });
		expect(before.total).toBe(0);
		const created = await app.broker.call<Product, object>("products.create", { ...lamp, sku: "TEST-CACHE", category: "cached" });
		expect((await list({ category: "cached", pageSize: 10 })).total).toBe(1);
		await app.broker.call("products.get", { id: created.id });
		await app.broker.call("products.update", { id: created.id, name: "Renamed" });
		await expect(app.broker.call("products.get", { id: created.id })).resolves.toMatchObject({ name: "Renamed" });
	});
});
