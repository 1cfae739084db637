// The address of the client a request really came from, for rate limiting
// and logs. X-Forwarded-For is believed only when the direct peer is one of
// our own proxies (TRUSTED_PROXIES), so a client cannot pick its own key.
import type { IncomingMessage } from "node:http";

function normalise(address: string): string {
	return address.startsWith("::ffff:") ? address.slice(7) : address;
}

export function clientAddress(req: IncomingMessage, trustedProxies: readonly string[]): string {
	const peer = normalise(req.socket.remoteAddress ?? "unknown");
	if (!trustedProxies.includes(peer)) return peer;
	const header = req.headers["x-forwarded-for"];
	const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
		.split(",")
		.map(hop => normalise(hop.trim()))
		.filter(Boolean);
	// Walk back from the nearest hop; the first one that is not ours is the client.
	for (let i = hops.length - 1; i >= 0; i--) {
		if (!trustedProxies.includes(hops[i])) return hops[i];
	}
	return hops[0] ?? peer;
}
