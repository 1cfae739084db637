// Headers every HTTP response of ours carries (the gateway, the health
// listener), errors and 404s included: no MIME sniffing, no framing, no
// Referer leaking our URLs, a CSP that lets a JSON answer load nothing, and
// no caching (answers hold tokens and personal data). The docs page and its
// files replace the CSP and Cache-Control with their own (services/api/api-docs.ts).
import type { ServerResponse } from "node:http";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options": "DENY",
	"Referrer-Policy": "no-referrer",
	"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	"Cache-Control": "no-store",
};

export function setSecurityHeaders(res: ServerResponse): void {
	for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

/** The same as a flat [name, value, ...] list for writeHead (Node's quickest way to send headers), with this Cache-Control. */
export function securityHeaderList(cacheControl: string): string[] {
	return Object.entries({ ...SECURITY_HEADERS, "Cache-Control": cacheControl }).flat();
}
