// fastest-validator as Moleculer uses it, with three changes that make it
// accept exactly what the OpenAPI document promises:
// - a rejected value is never copied into the error: errors travel between
//   nodes and into logs, and the rejected value may be a password or a token;
// - a field that may be left out (optional, or with a default) may not be sent
//   as null: fastest-validator lets null through there, so `PATCH {"price":
//   null}` would blank a required attribute. `nullable: true` opts back in;
// - string lengths count characters (code points), as JSON Schema and people
//   do, not UTF-16 units: "🔑🔑🔑🔑🔑" is 5 characters, not 10;
// - `convert: true` turns decimal text into numbers (query strings) and
//   nothing else: fastest-validator would take Number([]) and Number(""), 0,
//   and Number("0x10"), 16.
import { Validators } from "moleculer";

type Problem = { type: string; field: string; message: string; actual?: unknown };
type CheckerFunction = ReturnType<Validators.Fastest["compile"]>;
type RuleObject = Record<string, unknown>;
type Rule = string | RuleObject;
/** A field's place in the params; "[]" steps into each item of an array. */
type Path = string[];

interface Prepared {
	/** The schema for fastest-validator, with string lengths taken out. */
	props: Record<string, Rule>;
	/** Every field declared with a rule object, at any depth. */
	fields: { path: Path; rule: RuleObject }[];
}

function prepare(props: Record<string, Rule>, prefix: Path = []): Prepared {
	const prepared: Prepared = { props: {}, fields: [] };
	for (const [name, rule] of Object.entries(props)) {
		prepared.props[name] = rule;
		if (name.startsWith("$$") || typeof rule !== "object" || rule === null) continue;
		const path = [...prefix, name];
		prepared.fields.push({ path, rule });
		let own: RuleObject = rule;
		if (rule.type === "string" && rule.length === undefined && (rule.min !== undefined || rule.max !== undefined)) {
			// eslint-disable-next-line @typescript-eslint/no-unused-vars
			const { min: _min, max: _max, ...rest } = rule;
			own = rest;
		}
		const items = rule.items as RuleObject | undefined;
		if (rule.type === "object" && rule.props) {
			const inner = prepare(rule.props as Record<string, Rule>, path);
			own = { ...own, props: inner.props };
			prepared.fields.push(...inner.fields);
		} else if (rule.type === "array" && typeof items === "object" && items.props) {
			const inner = prepare(items.props as Record<string, Rule>, [...path, "[]"]);
			own = { ...own, items: { ...items, props: inner.props } };
			prepared.fields.push(...inner.fields);
		}
		prepared.props[name] = own;
	}
	return prepared;
}

/** The values along `path`, each with its concrete name ("items[2].note"). */
function valuesAt(value: unknown, path: Path, name = ""): { field: string; value: unknown }[] {
	if (path.length === 0) return [{ field: name, value }];
	if (value === null || typeof value !== "object") return [];
	const [step, ...rest] = path;
	if (step === "[]") return Array.isArray(value) ? value.flatMap((item, i) => valuesAt(item, rest, `${name}[${i}]`)) : [];
	return Object.hasOwn(value, step) ? valuesAt((value as RuleObject)[step], rest, name ? `${name}.${step}` : step) : [];
}

function nullProblems(params: unknown, fields: Prepared["fields"]): Problem[] {
	return fields
		.filter(({ rule }) => (rule.optional === true || rule.default !== undefined) && rule.nullable !== true)
		.flatMap(({ path }) => valuesAt(params, path))
		.filter(({ value }) => value === null)
		.map(({ field }) => ({ type: "forbidden", field, message: `The '${field}' field may be left out, but not null.` }));
}

function lengthProblems(params: unknown, fields: Prepared["fields"]): Problem[] {
	return fields
		.filter(({ rule }) => rule.type === "string" && rule.length === undefined && (rule.min !== undefined || rule.max !== undefined))
		.flatMap(({ path, rule }) =>
			valuesAt(params, path).flatMap(({ field, value }) => {
				if (typeof value !== "string") return [];
				const length = [...value].length;
				if (rule.min !== undefined && length < Number(rule.min))
					return [{ type: "stringMin", field, message: `The '${field}' field must be at least ${rule.min} characters long.` }];
				if (rule.max !== undefined && length > Number(rule.max))
					return [{ type: "stringMax", field, message: `The '${field}' field must be at most ${rule.max} characters long.` }];
				return [];
			}),
		);
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** Values a converting number rule would coerce although they are not decimal text. */
function conversionProblems(params: unknown, fields: Prepared["fields"]): Problem[] {
	return fields
		.filter(({ rule }) => rule.type === "number" && rule.convert === true)
		.flatMap(({ path }) => valuesAt(params, path))
		.filter(({ value }) => value !== undefined && value !== null && typeof value !== "number" && !(typeof value === "string" && DECIMAL.test(value)))
		.map(({ field }) => ({ type: "number", field, message: `The '${field}' field must be a number.` }));
}

function withoutValues(problems: Problem[]): Problem[] {
	for (const problem of problems) delete problem.actual;
	return problems;
}

export class ParamsValidator extends Validators.Fastest {
	compile(schema: Record<string, unknown>): CheckerFunction {
		const { props, fields } = prepare(schema as Record<string, Rule>);
		const check = super.compile(props) as (params: unknown) => true | Problem[] | Promise<true | Problem[]>;
		const validating = (params: unknown) => {
			// Before the check, which fills defaults in where it finds null and converts values.
			const before = [...nullProblems(params, fields), ...conversionProblems(params, fields)];
			// After it, so lengths are of trimmed values.
			const finish = (result: true | Problem[]) => {
				const found = result === true ? [] : withoutValues(result);
				// One problem per field: fastest-validator's own, when it found one.
				const ours = [...before, ...lengthProblems(params, fields)].filter(problem => !found.some(other => other.field === problem.field));
				const problems = [...found, ...ours];
				return problems.length === 0 ? true : problems;
			};
			const result = check(params);
			return result instanceof Promise ? result.then(finish) : finish(result);
		};
		// Moleculer awaits checks flagged async (params with custom async rules).
		(validating as { async?: boolean }).async = (check as { async?: boolean }).async;
		return validating as unknown as CheckerFunction;
	}
}
