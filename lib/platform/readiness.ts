// Whether this node should receive traffic: its services started and not
// stopping, the transporter connected (when there is one), the databases of the
// services it hosts reachable, and what they seed on start in place. Each check
// is bounded. Anyone may ask, so the answer names no node, service or
// database: which database failed goes to this node's log.
//
// The cache is reported but not required: without Redis, cached actions answer
// from their services and limits are counted on each node, so the node is
// "degraded" (still 200). Failing readiness on it would take every node out of
// rotation at once for the loss of a cache.
import type { ServiceBroker, Service } from "moleculer";
import type { HealthReport } from "../contract/contract";
import { cacherReachable } from "./cacher-health";

const CHECK_TIMEOUT_MS = 1500;
/** Checks whose failure degrades the node without taking it out of rotation. */
const OPTIONAL = new Set(["cache"]);

interface WithDatabase extends Service {
	databaseReachable(timeoutMs: number): Promise<boolean>;
}

function hasDatabase(service: Service): service is WithDatabase {
	return typeof (service as Partial<WithDatabase>).databaseReachable === "function";
}

/** A service that puts data in place after it starts (demo stock) is not ready until it is there. */
interface WithStartupData extends Service {
	startupDataInPlace: boolean;
}

function hasStartupData(service: Service): service is WithStartupData {
	return typeof (service as Partial<WithStartupData>).startupDataInPlace === "boolean";
}

export async function nodeReadiness(broker: ServiceBroker): Promise<HealthReport> {
	const checks: HealthReport["checks"] = {
		services: { ok: broker.started && !broker.stopping, detail: broker.stopping ? "stopping" : undefined },
	};
	const transit = broker.transit as { connected: boolean; disconnecting: boolean } | undefined;
	if (transit) checks.transporter = { ok: transit.connected && !transit.disconnecting };

	const databases = (broker.services as Service[]).filter(hasDatabase);
	const reachable = await Promise.all(databases.map(service => service.databaseReachable(CHECK_TIMEOUT_MS)));
	if (databases.length > 0) checks.database = { ok: reachable.every(Boolean) };
	const unreachable = databases.filter((_, i) => !reachable[i]).map(service => service.name);
	if (unreachable.length > 0) broker.getLogger("readiness").warn(`Not ready: the database of ${unreachable.join(", ")} does not answer`);
	const seeding = (broker.services as Service[]).filter(hasStartupData);
	if (seeding.length > 0) checks.data = { ok: seeding.every(service => service.startupDataInPlace) };

	if (broker.cacher) checks.cache = { ok: await cacherReachable(broker, CHECK_TIMEOUT_MS) };

	const required = Object.entries(checks).filter(([name]) => !OPTIONAL.has(name));
	if (!required.every(([, check]) => check.ok)) return { status: "unavailable", checks };
	return { status: Object.values(checks).every(check => check.ok) ? "ok" : "degraded", checks };
}

/** Degraded is ready: only an unavailable node is taken out of rotation. */
export function readinessStatusCode(report: HealthReport): 200 | 503 {
	return report.status === "unavailable" ? 503 : 200;
}
