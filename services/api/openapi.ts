// The OpenAPI 3.1 document of the gateway, made from the route table
// (lib/contract/api-routes.ts), each action's fastest-validator params and access, and
// the response schemas beside the public types (lib/contract/contract-schemas.ts).
import type { Access } from "../../lib/contract/contract";
import type { ApiRoute, RouteGroup } from "../../lib/contract/api-routes";
import { CONTRACT_SCHEMAS } from "../../lib/contract/contract-schemas";

type JsonSchema = Record<string, unknown>;
type Rule = string | Record<string, unknown>;

/** What the document needs to know of an action. */
export interface ActionDoc {
	params?: Record<string, Rule>;
	access?: Access;
	/** No node hosts the action now. */
	unavailable?: boolean;
}

/** fastest-validator's shorthand ("number|optional") as a rule object. */
function expand(rule: Rule): Record<string, unknown> {
	if (typeof rule !== "string") return rule;
	const [type, ...flags] = rule.split("|");
	return { type, ...Object.fromEntries(flags.map(flag => [flag, true])) };
}

function isOptional(rule: Rule): boolean {
	const { optional, default: fallback } = expand(rule);
	return optional === true || fallback !== undefined;
}

/** One fastest-validator rule as the JSON Schema of the values it accepts. */
export function ruleToSchema(input: Rule): JsonSchema {
	const rule = expand(input);
	const schema: JsonSchema = {};
	switch (rule.type) {
		case "string":
			schema.type = "string";
			if (rule.length !== undefined) schema.minLength = schema.maxLength = rule.length;
			if (rule.min !== undefined) schema.minLength = rule.min;
			if (rule.max !== undefined) schema.maxLength = rule.max;
			if (rule.pattern !== undefined) schema.pattern = String(rule.pattern instanceof RegExp ? rule.pattern.source : rule.pattern);
			// A trimmed, non-empty string needs something besides whitespace.
			else if (rule.trim && Number(rule.min) > 0) schema.pattern = "\\S";
			break;
		case "number":
			schema.type = rule.integer ? "integer" : "number";
			if (rule.min !== undefined) schema.minimum = rule.min;
			if (rule.max !== undefined) schema.maximum = rule.max;
			if (rule.positive) schema.exclusiveMinimum = 0;
			break;
		case "boolean":
			schema.type = "boolean";
			break;
		case "enum":
			schema.enum = rule.values;
			break;
		case "array":
			schema.type = "array";
			if (rule.items !== undefined) schema.items = ruleToSchema(rule.items as Rule);
			if (rule.min !== undefined) schema.minItems = rule.min;
			if (rule.max !== undefined) schema.maxItems = rule.max;
			break;
		case "object":
			Object.assign(schema, objectSchema((rule.props ?? {}) as Record<string, Rule>));
			// `strict: true` refuses unknown keys; "remove" (ours) drops them quietly.
			if (rule.strict === true) schema.additionalProperties = false;
			break;
		default:
			throw new Error(`No JSON Schema for the fastest-validator rule type "${String(rule.type)}"`);
	}
	if (rule.default !== undefined) schema.default = rule.default;
	return schema;
}

function objectSchema(props: Record<string, Rule>): JsonSchema {
	const entries = Object.entries(props).filter(([name]) => !name.startsWith("$$"));
	const required = entries.filter(([, rule]) => !isOptional(rule)).map(([name]) => name);
	return {
		type: "object",
		properties: Object.fromEntries(entries.map(([name, rule]) => [name, ruleToSchema(rule)])),
		...(required.length > 0 && { required }),
	};
}

/** The params and access an action declares, as the registry carries them from whichever node hosts it. */
export function registeredActionDoc(action: { params?: unknown; access?: Access } | undefined): ActionDoc | undefined {
	return action && { params: action.params as ActionDoc["params"], access: action.access };
}

const ref = (kind: "schemas" | "responses", name: string) => ({ $ref: `#/components/${kind}/${name}` });

const ERROR_RESPONSES: Record<number, string> = {
	400: "The body is not valid JSON, or not encoded as its Content-Encoding says",
	401: "No valid access token (or bad credentials)",
	403: "Signed in, but not allowed to do this",
	404: "No such resource (or not yours)",
	409: "Conflicts with the resource's current state",
	413: "The body is larger than BODY_LIMIT",
	422: "The input breaks a rule; `data` lists each problem",
	429: "Too many requests from this client; see Retry-After",
	503: "A service it needs is down or its circuit is open; retry later",
	504: "A service it needs did not answer in time",
};

const operationId = (action: string) => action.replace(".", "_");

function links(route: ApiRoute): JsonSchema {
	if (!route.links) return {};
	return {
		links: Object.fromEntries(
			Object.entries(route.links).map(([action, parameters]) => [operationId(action), { operationId: operationId(action), parameters }]),
		),
	};
}

/** The validators of a route whose answers the gateway keeps (services/api/page-cache.ts). */
function cacheable(route: ApiRoute): JsonSchema {
	if (!route.pageCache) return {};
	return {
		headers: {
			ETag: { description: "Changes whenever the answer does; send it back as If-None-Match", schema: { type: "string" } },
			"Cache-Control": {
				description: "public, no-cache: any cache may keep the answer but must revalidate it (a cheap 304) before use",
				schema: { type: "string" },
			},
		},
	};
}

function operation(alias: string, route: ApiRoute, action: ActionDoc, api: boolean): JsonSchema {
	const [method, path] = alias.split(" ");
	const inPath = [...path.matchAll(/:(\w+)/g)].map(match => match[1]);
	const params = Object.entries(action.params ?? {}).filter(([name]) => !name.startsWith("$$"));
	const rest = params.filter(([name]) => !inPath.includes(name));
	const hasBody = method !== "GET" && method !== "DELETE" && rest.length > 0;

	const parameters = [
		...inPath.map(name => {
			const rule = params.find(([param]) => param === name)?.[1];
			if (!rule && !action.unavailable) throw new Error(`${alias}: the path names :${name} but ${route.action} has no such param`);
			return { name, in: "path", required: true, schema: rule ? ruleToSchema(rule) : { type: "string" } };
		}),
		...(hasBody ? [] : rest.map(([name, rule]) => ({ name, in: "query", required: !isOptional(rule), schema: ruleToSchema(rule) }))),
		...Object.entries(route.headers ?? {}).map(([name, header]) => ({
			name,
			in: "header",
			required: header.required,
			description: header.description,
			schema: { type: "string", minLength: 1 },
		})),
		...(route.pageCache
			? [
					{
						name: "If-None-Match",
						in: "header",
						required: false,
						description: "The ETag of the copy the client holds: 304 with no body while it is current",
						schema: { type: "string" },
					},
				]
			: []),
	];

	const access = action.access ?? (api ? "user" : "public");
	const errors = new Set(route.errors ?? []);
	if (api) [401, 429, 503, 504].forEach(status => errors.add(status));
	if (params.length > 0) errors.add(422);
	if (hasBody) [400, 413].forEach(status => errors.add(status));
	if (access === "admin") errors.add(403);

	const responses: Record<string, unknown> = {};
	for (const [status, schema] of Object.entries(route.responses)) {
		const created =
			status === "201" && route.location ? { headers: { Location: { description: "Where the new resource lives", schema: { type: "string" } } } } : {};
		if (route.contentType) responses[status] = { description: "OK", content: { [route.contentType]: { schema: { type: "string" } } } };
		else if (schema === null || schema === undefined) responses[status] = { description: "Done; no content" };
		else
			responses[status] = {
				description: status < "300" ? "OK" : "Not OK",
				...created,
				...cacheable(route),
				content: { "application/json": { schema: ref("schemas", schema) } },
				...links(route),
			};
	}
	if (route.pageCache) responses["304"] = { description: "Not Modified: the If-None-Match copy is current (no body)", ...cacheable(route) };
	for (const status of [...errors].sort()) responses[status] ??= ref("responses", String(status));

	return {
		operationId: operationId(route.action),
		summary: route.summary,
		...(action.unavailable && { description: "Its service is not running now: parameters and access are not known." }),
		tags: [route.action.split(".")[0]],
		...(access !== "public" && { security: [{ bearerAuth: [] }] }),
		...(access === "public" && api && { security: [{}, { bearerAuth: [] }] }),
		...(parameters.length > 0 && { parameters }),
		...(hasBody && { requestBody: { required: true, content: { "application/json": { schema: objectSchema(Object.fromEntries(rest)) } } } }),
		responses,
		"x-moleculer-action": route.action,
		"x-access": access,
	};
}

/** `:id` becomes `{id}`. */
function openApiPath(prefix: string, path: string): string {
	return `${prefix}/${path}`.replace(/\/+$/, "").replace(/:(\w+)/g, "{$1}") || "/";
}

export function openApiDocument(groups: RouteGroup[], actions: (name: string) => ActionDoc | undefined, version: string): JsonSchema {
	const paths: Record<string, Record<string, unknown>> = {};
	for (const group of groups) {
		for (const [alias, route] of Object.entries(group.routes)) {
			// Not running anywhere now: the route as the table knows it, without its params.
			const action = actions(route.action) ?? { unavailable: true };
			const [method, path] = alias.split(" ");
			const key = openApiPath(group.path, path);
			paths[key] = { ...paths[key], [method.toLowerCase()]: operation(alias, route, action, group.api) };
		}
	}
	return {
		openapi: "3.1.0",
		info: {
			title: "Moleculer shop",
			version,
			description: "The shop's REST API. Money is in minor units (cents). Errors share one shape: `{ name, message, code, type, data }`.",
		},
		paths,
		components: {
			schemas: CONTRACT_SCHEMAS,
			responses: Object.fromEntries(
				Object.entries(ERROR_RESPONSES).map(([status, description]) => [
					status,
					{ description, content: { "application/json": { schema: ref("schemas", "Error") } } },
				]),
			),
			securitySchemes: {
				bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "The accessToken from /api/auth/login or /api/auth/register" },
			},
		},
	};
}
