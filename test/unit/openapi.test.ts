// fastest-validator rules as the JSON Schema the OpenAPI document promises.
import { openApiDocument, ruleToSchema } from "../../services/api/openapi";
import { ROUTE_GROUPS } from "../../lib/contract/api-routes";

describe("params in the OpenAPI document", () => {
	it("translates each rule type we use, with its bounds and default", () => {
		expect(ruleToSchema({ type: "string", min: 1, max: 64 })).toEqual({ type: "string", minLength: 1, maxLength: 64 });
		expect(ruleToSchema({ type: "string", length: 3 })).toEqual({ type: "string", minLength: 3, maxLength: 3 });
		expect(ruleToSchema({ type: "string", pattern: "^[A-Z]{3}$", default: "USD" })).toEqual({ type: "string", pattern: "^[A-Z]{3}$", default: "USD" });
		expect(ruleToSchema({ type: "number", integer: true, min: 1, max: 99, convert: true })).toEqual({ type: "integer", minimum: 1, maximum: 99 });
		expect(ruleToSchema({ type: "number", positive: true })).toEqual({ type: "number", exclusiveMinimum: 0 });
		expect(ruleToSchema({ type: "enum", values: ["a", "b"] })).toEqual({ enum: ["a", "b"] });
		expect(ruleToSchema("boolean|optional")).toEqual({ type: "boolean" });
		expect(ruleToSchema({ type: "array", items: "string", min: 1, max: 5 })).toEqual({
			type: "array",
			items: { type: "string" },
			minItems: 1,
			maxItems: 5,
		});
	});

	it("says a trimmed, required string needs more than whitespace", () => {
		expect(ruleToSchema({ type: "string", trim: true, min: 1 })).toMatchObject({ pattern: "\\S" });
	});

	it("lists required properties of objects and keeps extra keys allowed unless the rule is strict", () => {
		const schema = ruleToSchema({
			type: "object",
			strict: "remove",
			props: { a: "string", b: { type: "number", optional: true }, c: { type: "string", default: "x" }, $$strict: "remove" },
		});
		expect(schema).toEqual({
			type: "object",
			properties: { a: { type: "string" }, b: { type: "number" }, c: { type: "string", default: "x" } },
			required: ["a"],
		});
		expect(ruleToSchema({ type: "object", strict: true, props: {} })).toMatchObject({ additionalProperties: false });
	});

	it("refuses a rule type it cannot describe, so no route goes undocumented by accident", () => {
		expect(() => ruleToSchema({ type: "email" })).toThrow(/email/);
	});
});

describe("the OpenAPI document's sources", () => {
	it("documents a route whose service is not running from the route table alone, and says so", () => {
		const doc = openApiDocument(
			ROUTE_GROUPS,
			name => (name === "products.get" ? { params: { id: { type: "string", min: 1 } }, access: "public" } : undefined),
			"1.0.0",
		) as {
			paths: Record<string, Record<string, { parameters?: unknown[]; description?: string }>>;
		};
		expect(doc.paths["/api/products/{id}"].get.description).toBeUndefined();
		expect(doc.paths["/api/products"].get.description).toMatch(/not running/);
	});
});
