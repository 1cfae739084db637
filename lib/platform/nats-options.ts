// How a node connects to NATS. The Moleculer transporter and the
// @moleculer/channels JetStream adapter each open their own connection, and
// both take these options: servers and credentials from TRANSPORTER, TLS from
// NATS_TLS_*. Neither library would take all of that from the URL itself: the
// channels adapter keeps only host:port, and nats.js ignores the scheme.
import { tokenAuthenticator, usernamePasswordAuthenticator, type ConnectionOptions } from "nats";
import type { Env } from "./env";

/** `env.transporter` must be a NATS URL (isNatsUrl). */
export function natsConnectionOptions(env: Env): ConnectionOptions {
	const urls = env.transporter!.split(",").map(server => new URL(server.trim()));
	const credentials = urls.find(url => url.username || url.password);
	// TLS is required (and the connection fails without it) when files are
	// given or a URL says tls://; otherwise nats.js still upgrades when the
	// server asks for it.
	const tls = env.natsTls ?? (urls.some(url => url.protocol === "tls:") ? {} : undefined);
	return {
		servers: urls.map(url => url.host), // host:port, without scheme or credentials
		// With several servers (a NATS cluster), each connection starts at a random one
		// and moves to another when it is lost: nodes given the same list (Kubernetes)
		// still spread over the cluster. Servers the cluster announces are added too.
		noRandomize: false,
		// Credentials live only inside the authenticator's closure, so no
		// printout of the options (the REPL's `info`, a debug dump) shows them.
		...(credentials && { authenticator: authenticator(credentials) }),
		...(tls && { tls }),
		// Keep trying while NATS restarts; the default gives up after ~20 s
		// and leaves the node cut off until someone restarts it.
		maxReconnectAttempts: -1,
		reconnectTimeWait: 500,
	};
}

// nats://user:password@host, or nats://token@host (a user with no password is
// a token, as in the other NATS clients). Both may be percent-encoded.
function authenticator(url: URL): ConnectionOptions["authenticator"] {
	const user = decodeURIComponent(url.username);
	if (!url.password) return tokenAuthenticator(user);
	return usernamePasswordAuthenticator(user, decodeURIComponent(url.password));
}
