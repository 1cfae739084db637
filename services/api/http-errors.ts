// How any error becomes the JSON a client gets: the right status, a stable
// type, and nothing internal (stack, node ids, action names) on a 5xx.
import { ErrorTypes, type ErrorBody } from "../../lib/contract/contract";

interface AnyError {
	name?: string;
	message?: string;
	code?: unknown;
	status?: unknown;
	type?: unknown;
	data?: unknown;
}

/** Server-side errors we raise on purpose; their message is meant for clients. */
const PUBLIC_SERVER_ERRORS = new Set<string>([ErrorTypes.DATABASE_UNAVAILABLE, ErrorTypes.SERVICE_UNAVAILABLE]);

function body(status: number, name: string, message: string, type: string, data?: unknown): { status: number; body: ErrorBody } {
	return { status, body: { name, message, code: status, type, ...(data !== undefined && { data }) } };
}

/**
 * Validation items name the field and rule. Where they were checked is our
 * business, and the rejected value is not echoed: it may be a password.
 */
function withoutInternals(item: unknown): unknown {
	if (item == null || typeof item !== "object") return item;
	// eslint-disable-next-line @typescript-eslint/no-unused-vars
	const { nodeID: _node, action: _action, actual: _actual, ...rest } = item as Record<string, unknown>;
	return rest;
}

export function toErrorResponse(raw: unknown): { status: number; body: ErrorBody } {
	const err = (raw ?? {}) as AnyError;
	const type = typeof err.type === "string" ? err.type : undefined;

	// body-parser (moleculer-web's JSON parsing) reports with `status` and `type`.
	if (type === "entity.parse.failed") return body(400, "BadRequestError", "The request body is not valid JSON", ErrorTypes.INVALID_JSON);
	if (type === "entity.too.large") return body(413, "PayloadTooLargeError", "The request body is too large", ErrorTypes.PAYLOAD_TOO_LARGE);
	if (type?.startsWith("entity.") || type?.endsWith(".unsupported") || type === "request.aborted") {
		const status = ([err.status, err.code].find(value => typeof value === "number") as number | undefined) ?? 400;
		return body(status, "BadRequestError", err.message ?? "Bad request", type.toUpperCase().replace(/\./g, "_"));
	}

	// No node hosts the action, every endpoint's circuit is open, the node
	// serving the call left the cluster before answering, or this node has lost
	// the transporter (NATS or RabbitMQ restarting) and reaches no other.
	if (
		type === "SERVICE_NOT_FOUND" ||
		type === "SERVICE_NOT_AVAILABLE" ||
		type === "REQUEST_REJECTED" ||
		err.name === "ServiceUnavailableError" ||
		err.name === "BrokerDisconnectedError"
	) {
		return body(503, "ServiceUnavailableError", "The service is temporarily unavailable; retry later", ErrorTypes.SERVICE_UNAVAILABLE);
	}
	// Timed out, or skipped because the caller's time budget was already spent.
	if (type === "REQUEST_TIMEOUT" || type === "REQUEST_SKIPPED")
		return body(504, "GatewayTimeoutError", "The service did not answer in time", "REQUEST_TIMEOUT");

	const code = typeof err.code === "number" && err.code >= 400 && err.code <= 599 ? err.code : 500;
	if (code === 422 && Array.isArray(err.data)) {
		return body(422, err.name ?? "ValidationError", err.message ?? "Invalid parameters", type ?? "VALIDATION_ERROR", err.data.map(withoutInternals));
	}
	if (code < 500)
		return body(
			code,
			err.name ?? "ClientError",
			err.message ?? "Bad request",
			type ?? "CLIENT_ERROR",
			err.data == null ? undefined : withoutInternals(err.data),
		);
	if (type && PUBLIC_SERVER_ERRORS.has(type)) return body(code, err.name ?? "ServerError", err.message ?? "Unavailable", type);
	return body(500, "InternalServerError", "Something went wrong on our side", ErrorTypes.INTERNAL);
}
