// Moleculer's Zipkin exporter, with trace ids a collector always accepts.
//
// A span's trace id is the request id, and the gateway keeps a caller's
// X-Request-Id when it is a sane token (services/api/request-id.ts), such as
// "order-123". Zipkin ids are hex: Jaeger refuses a batch holding one that is
// not, and with it every other request's spans the node sent in those 5 s, so
// one client could blind tracing for everyone. Such an id is sent as a hash of
// itself instead; the span's requestID tag still carries it as given.
import { createHash } from "node:crypto";
import { TracerExporters } from "moleculer";

const HEX_ID = /^[0-9a-f]{1,32}$/i;

export class ZipkinExporter extends TracerExporters.Zipkin {
	convertID(id: string): string {
		if (!id) return id; // a root span's parent id: none
		const compact = id.replace(/-/g, "");
		return (HEX_ID.test(compact) ? compact : createHash("sha256").update(id).digest("hex")).substring(0, 16);
	}
}
