// Whether this node should receive traffic: its services started and not
// stopping, the transporter connected (when there is one), the cache and the
// databases of the services it hosts reachable, and what they seed on start in
// place. Each check is bounded.
import type { ServiceBroker, Service } from "moleculer";
import type { HealthReport } from "./contract";
import { cacherReachable } from "./cacher-health";

const CHECK_TIMEOUT_MS = 1500;

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
	if (broker.cacher) checks.cache = { ok: await cacherReachable(broker, CHECK_TIMEOUT_MS) };

	const databases = (broker.services as Service[]).filter(hasDatabase);
	const reachable = await Promise.all(databases.map(service => service.databaseReachable(CHECK_TIMEOUT_MS)));
	databases.forEach((service, i) => (checks[`database:${service.name}`] = { ok: reachable[i] }));
	for (const service of (broker.services as Service[]).filter(hasStartupData)) checks[`data:${service.name}`] = { ok: service.startupDataInPlace };

	const ok = Object.values(checks).every(check => check.ok);
	return { status: ok ? "ok" : "unavailable", nodeID: broker.nodeID, checks };
}
