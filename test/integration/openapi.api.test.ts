// The API's own description: /api/openapi.json covers exactly the routes the
// gateway serves, is a valid OpenAPI 3.1 document, and /docs renders it.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { allServices, startApp, type TestApp } from "../support/app";
import { request } from "../support/http";

type Operation = {
	operationId: string;
	parameters?: { name: string; in: string }[];
	requestBody?: unknown;
	responses: Record<string, { links?: Record<string, { operationId: string }> }>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

describe("the OpenAPI document", () => {
	let app: TestApp;
	let doc: Document;
	beforeAll(async () => {
		app = await startApp(allServices());
		const res = await request<Document>(`${app.url}/api/openapi.json`);
		expect(res.status).toBe(200);
		doc = res.body;
	});
	afterAll(() => app.stop());

	const operations = () => Object.entries(doc.paths).flatMap(([route, methods]) => Object.entries(methods).map(([method, op]) => ({ route, method, op })));

	it("documents every route the gateway serves, and only those", () => {
		const gateway = app.broker.getLocalService("api") as unknown as { aliases: { method: string; fullPath: string }[] };
		const served = gateway.aliases.map(alias => `${alias.method} ${alias.fullPath}`);
		const documented = operations().map(({ route, method }) => `${method.toUpperCase()} ${route.replace(/\{(\w+)\}/g, ":$1")}`);
		expect(documented.sort()).toEqual(served.sort());
		expect(served.length).toBeGreaterThan(25);
	});

	it("is a valid OpenAPI 3.1 document", async () => {
		expect(doc.openapi).toBe("3.1.0");
		const file = path.join(mkdtempSync(path.join(tmpdir(), "openapi-")), "openapi.json");
		writeFileSync(file, JSON.stringify(doc));
		const cli = path.join(__dirname, "../../node_modules/@seriousme/openapi-schema-validator/bin/validate-api-cli.js");
		const { stdout } = await promisify(execFile)(process.execPath, [cli, file]).catch(err => err as { stdout: string });
		expect(JSON.parse(stdout)).toEqual({ valid: true });
	});

	it("gives every operation a success response, its path params, and links that resolve", () => {
		const ids = new Set(operations().map(({ op }) => op.operationId));
		for (const { route, op } of operations()) {
			expect(Object.keys(op.responses).some(status => status.startsWith("2"))).toBe(true);
			const inPath = [...route.matchAll(/\{(\w+)\}/g)].map(match => match[1]);
			expect((op.parameters ?? []).filter(p => p.in === "path").map(p => p.name)).toEqual(inPath);
			for (const response of Object.values(op.responses)) {
				for (const link of Object.values(response.links ?? {})) expect(ids).toContain(link.operationId);
			}
		}
	});

	it("describes request bodies and query strings from the actions' params", () => {
		const checkout = doc.paths["/api/orders"].post;
		expect(checkout.requestBody).toMatchObject({ content: { "application/json": { schema: { required: ["shippingAddress", "payment"] } } } });
		expect(checkout.parameters).toEqual([expect.objectContaining({ name: "Idempotency-Key", in: "header" })]);
		const browse = doc.paths["/api/products"].get.parameters!.map(p => `${p.in}:${p.name}`);
		expect(browse).toEqual(expect.arrayContaining(["query:q", "query:category", "query:sort", "query:page", "query:pageSize"]));
		expect(doc.paths["/api/products"].post.responses["201"]).toMatchObject({
			content: { "application/json": { schema: { $ref: "#/components/schemas/Product" } } },
		});
	});

	it("documents conditional GETs where the gateway keeps answers: If-None-Match, ETag, Cache-Control and 304", () => {
		for (const path of ["/api/products", "/api/products/{id}"]) {
			const read = doc.paths[path].get;
			expect(read.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: "If-None-Match", in: "header" })]));
			expect(read.responses["200"]).toMatchObject({ headers: { ETag: expect.anything(), "Cache-Control": expect.anything() } });
			expect(read.responses["304"]).toMatchObject({ headers: { ETag: expect.anything() } });
		}
		expect(doc.paths["/api/cart"].get.responses["304"]).toBeUndefined();
	});

	it("serves the docs page and everything it loads", async () => {
		const page = await fetch(`${app.url}/docs`);
		expect(page.headers.get("content-type")).toMatch(/^text\/html/);
		const html = await page.text();
		const assets = [...html.matchAll(/(?:href|src)="(\/docs\/[^"]+)"/g)].map(match => match[1]);
		expect(assets).toHaveLength(3);
		for (const asset of assets) {
			const res = await fetch(`${app.url}${asset}`);
			expect(res.status).toBe(200);
			expect(res.headers.get("content-type")).toMatch(/^text\/(css|javascript)/);
			if (asset.endsWith("start.js")) expect(await res.text()).toContain("/api/openapi.json");
		}
		expect((await fetch(`${app.url}/docs/../../package.json`)).status).toBe(404);
		expect((await fetch(`${app.url}/docs/index.html`)).status).toBe(404);
	});
});
