// X-Request-Id: a caller's id is kept when it is a sane token (it ends up in
// logs and headers); otherwise a new one is made.
import type { IncomingMessage } from "node:http";
import { randomUUID } from "node:crypto";

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(header: string | string[] | undefined): string {
	const candidate = Array.isArray(header) ? header[0] : header;
	return candidate && SAFE_ID.test(candidate) ? candidate : randomUUID();
}

/** The request id of an HTTP request: its X-Request-Id (or X-Correlation-Id) if sane, else a new one. */
export function requestIdOf(req: IncomingMessage): string {
	return requestId(req.headers["x-request-id"] ?? req.headers["x-correlation-id"]);
}
