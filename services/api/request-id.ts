// X-Request-Id: a caller's id is kept when it is a sane token (it ends up in
// logs and headers); otherwise a new one is made.
import { randomUUID } from "node:crypto";

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(header: string | string[] | undefined): string {
	const candidate = Array.isArray(header) ? header[0] : header;
	return candidate && SAFE_ID.test(candidate) ? candidate : randomUUID();
}
