import type { IncomingMessage } from "node:http";
import { clientAddress } from "../../services/api/client-address";
import { requestId } from "../../services/api/request-id";

const req = (remoteAddress: string, forwardedFor?: string) =>
	({ socket: { remoteAddress }, headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {} }) as unknown as IncomingMessage;

describe("client address", () => {
	it("is the peer address when no proxy is trusted, whatever the client claims", () => {
		expect(clientAddress(req("::ffff:203.0.113.9", "1.2.3.4"), [])).toBe("203.0.113.9");
	});

	it("is the nearest untrusted hop when the peer is a trusted proxy", () => {
		expect(clientAddress(req("10.0.0.2", "1.2.3.4, 203.0.113.9"), ["10.0.0.2"])).toBe("203.0.113.9");
		expect(clientAddress(req("10.0.0.2", "203.0.113.9, 10.0.0.3"), ["10.0.0.2", "10.0.0.3"])).toBe("203.0.113.9");
	});
});

describe("request id", () => {
	it("keeps a sane id and replaces a hostile or oversized one", () => {
		expect(requestId("abc-123.x")).toBe("abc-123.x");
		expect(requestId("x\r\nSet-Cookie: a")).not.toContain("\n");
		expect(requestId("x".repeat(129))).toHaveLength(36);
		expect(requestId(undefined)).toMatch(/^[0-9a-f-]{36}$/);
	});
});
