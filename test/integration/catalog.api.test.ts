// A client browsing the catalog through the gateway, with the whole app in one
// broker, on NeDB and on the MongoDB server.
import { allServices, describeEachDatabase, startApp, type TestApp } from "../support/app";
import { request } from "../support/http";
import type { ErrorBody, Page, Product } from "../../lib/contract/contract";

describeEachDatabase("catalog over HTTP", backend => {
	let app: TestApp;
	beforeAll(async () => {
		app = await startApp(allServices(), backend.env());
	});
	afterAll(() => app.stop());

	it("lists the seeded catalog in pages with the list shape", async () => {
		const res = await request<Page<Product>>(`${app.url}/api/products`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/application\/json/);
		expect(res.body).toMatchObject({ total: 60, page: 1, pageSize: 20, totalPages: 3 });
		expect(res.body.rows).toHaveLength(20);
	});

	it("filters, sorts and pages from the query string", async () => {
		const res = await request<Page<Product>>(`${app.url}/api/products?category=books&sort=-price&page=2&pageSize=3`);
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ total: 10, page: 2, pageSize: 3, totalPages: 4 });
		const prices = res.body.rows.map(p => p.price);
		expect(prices).toEqual([...prices].sort((a, b) => b - a));
		expect(res.body.rows.every(p => p.category === "books")).toBe(true);

		const search = await request<Page<Product>>(`${app.url}/api/products?q=${encodeURIComponent("cast iron")}&minPrice=100&maxPrice=100000`);
		expect(search.body.rows.map(p => p.sku)).toEqual(["KITC-002"]);
	});

	it("gets one product by id, and 404 with the error shape for an unknown one", async () => {
		const { body } = await request<Page<Product>>(`${app.url}/api/products?pageSize=1`);
		const one = await request<Product>(`${app.url}/api/products/${body.rows[0].id}`);
		expect(one.status).toBe(200);
		expect(Object.keys(one.body).sort()).toEqual(["category", "createdAt", "currency", "description", "id", "name", "price", "sku", "updatedAt"]);
		const missing = await request<ErrorBody>(`${app.url}/api/products/does-not-exist`);
		expect(missing.status).toBe(404);
		expect(missing.body).toMatchObject({ name: expect.any(String), message: expect.any(String), code: 404, type: "NOT_FOUND" });
	});

	it("answers wrong paging, sorting and filter input with 422 naming the field", async () => {
		const cases: [string, string][] = [
			["pageSize=101", "pageSize"],
			["page=-1", "page"],
			["sort=secret", "sort"],
			["minPrice=abc", "minPrice"],
			["minPrice=900&maxPrice=100", "minPrice"],
			// Found by the API fuzzing: empty and hexadecimal text passed as numbers.
			["minPrice=", "minPrice"],
			["page=0x10", "page"],
		];
		for (const [query, field] of cases) {
			const res = await request<ErrorBody>(`${app.url}/api/products?${query}`);
			expect(res.status).toBe(422);
			expect(res.body).toMatchObject({ code: 422, type: "VALIDATION_ERROR" });
			expect((res.body.data as { field: string }[]).map(item => item.field)).toEqual([field]);
		}
	});

	it("refuses catalog writes from anonymous clients with 401 and stores nothing", async () => {
		const res = await request(`${app.url}/api/products`, { method: "POST", body: { sku: "HACK-1", name: "x", price: 1, category: "x" } });
		expect(res.status).toBe(401);
		expect((await request<Page<Product>>(`${app.url}/api/products?q=HACK-1`)).body.total).toBe(0);
	});

	it("reports the node ready with its database reachable", async () => {
		const res = await request(`${app.url}/health/ready`);
		expect(res.status).toBe(200);
		expect(res.body.checks.database).toEqual({ ok: true });
	});
});
