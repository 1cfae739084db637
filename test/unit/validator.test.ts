import { ParamsValidator } from "../../lib/platform/validator";

type Problem = { field: string; type: string; actual?: unknown };

function checker(schema: Record<string, unknown>): (params: unknown) => true | Problem[] {
	const validator = new ParamsValidator();
	return validator.compile(schema) as unknown as (params: unknown) => true | Problem[];
}

describe("the action params validator", () => {
	const check = checker({
		name: { type: "string", optional: true },
		note: { type: "string", optional: true, nullable: true },
		address: { type: "object", props: { line2: { type: "string", optional: true } } },
		items: { type: "array", optional: true, items: { type: "object", props: { gift: { type: "string", optional: true } } } },
		password: { type: "string", min: 10 },
		currency: { type: "string", default: "USD" },
	});
	const valid = { address: {}, password: "long enough secret" };

	it("lets optional fields be left out, and fills in defaults", () => {
		const params: Record<string, unknown> = { ...valid };
		expect(check(params)).toBe(true);
		expect(params.currency).toBe("USD");
	});

	it("refuses null for an optional field, at any depth, naming the field", () => {
		const problems = check({ ...valid, name: null, currency: null, address: { line2: null }, items: [{ gift: "x" }, { gift: null }] });
		expect(problems).not.toBe(true);
		expect((problems as Problem[]).map(p => p.field).sort()).toEqual(["address.line2", "currency", "items[1].gift", "name"]);
	});

	it("accepts null where a field is declared nullable", () => {
		expect(check({ ...valid, note: null })).toBe(true);
	});

	it("counts a string's length in characters, after trimming", () => {
		const names = checker({ name: { type: "string", trim: true, min: 2, max: 3 } });
		expect(names({ name: "🔑🔑🔑" })).toBe(true); // six UTF-16 units, three characters
		expect(names({ name: "   ab   " })).toBe(true);
		expect((names({ name: "🔑" }) as Problem[]).map(p => p.type)).toEqual(["stringMin"]);
		expect((names({ name: "🔑🔑🔑🔑" }) as Problem[]).map(p => p.type)).toEqual(["stringMax"]);
	});

	it("converts decimal text to numbers, and nothing else", () => {
		const paging = checker({ page: { type: "number", integer: true, convert: true, optional: true } });
		const params: Record<string, unknown> = { page: "3" };
		expect(paging(params)).toBe(true);
		expect(params.page).toBe(3);
		for (const page of [[], {}, true, "", " ", "0x10", "1e3", "3 "]) expect((paging({ page }) as Problem[]).map(p => p.field)).toContain("page");
	});

	it("never copies the rejected value into the error", () => {
		const problems = check({ ...valid, password: "short" }) as Problem[];
		expect(problems.map(p => p.field)).toEqual(["password"]);
		expect(JSON.stringify(problems)).not.toContain('short"');
		expect(problems[0].actual).toBeUndefined();
	});
});
