// The app in this process: a broker built from moleculer.config.ts with the
// env a test gives, the services it names, and the gateway's URL.
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { brokerConfig } from "../../moleculer.config";
import { readEnv } from "../../lib/platform/env";
import { describeWithServers, serverUrls } from "./servers";

export type EnvOverrides = Record<string, string | undefined>;

export interface TestApp {
	broker: ServiceBroker;
	/** http://127.0.0.1:<port> of the gateway, when the app has one. */
	url: string;
	stop(): Promise<void>;
}

/** Sets env vars until the returned function restores them. */
export function setEnv(overrides: EnvOverrides): () => void {
	const saved = Object.fromEntries(Object.keys(overrides).map(key => [key, process.env[key]]));
	const apply = (values: EnvOverrides) => {
		for (const [key, value] of Object.entries(values)) {
			if (value === undefined) delete process.env[key];
			else process.env[key] = value;
		}
	};
	apply(overrides);
	return () => apply(saved);
}

export function uniqueName(prefix: string): string {
	return `${prefix}${randomBytes(4).toString("hex")}`;
}

// Schemas whose handlers type `this` as a mixin's service (DbService, ...).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyServiceSchema = ServiceSchema<any, any, any, any>;

/** `logs: true` keeps the app's own logger (LOGLEVEL decides what it prints to the console). */
export async function startApp(services: AnyServiceSchema[], env: EnvOverrides = {}, options: { logs?: boolean } = {}): Promise<TestApp> {
	const restoreEnv = setEnv({ PORT: "0", ...env });
	const config = brokerConfig(readEnv());
	const broker = new ServiceBroker({
		...config,
		logger: options.logs ? config.logger : process.env.TEST_LOGS ? { type: "Console", options: { level: "info" } } : false,
	});
	try {
		for (const schema of services) broker.createService(schema as ServiceSchema);
		await broker.start();
		// As a load balancer would: requests come once what the node seeds on start is in place.
		const seeded = () => broker.services.every(service => (service as { startupDataInPlace?: boolean }).startupDataInPlace !== false);
		for (const deadline = Date.now() + 15_000; !seeded() && Date.now() < deadline;) await new Promise(resolve => setTimeout(resolve, 20));
	} catch (err) {
		await broker.stop().catch(() => undefined);
		restoreEnv();
		throw err;
	}
	const gateway = broker.getLocalService("api") as unknown as { server?: { address(): AddressInfo } } | undefined;
	const port = gateway?.server?.address().port;
	return {
		broker,
		url: port ? `http://127.0.0.1:${port}` : "",
		async stop() {
			await broker.stop();
			restoreEnv();
		},
	};
}

export interface DatabaseBackend {
	name: "NeDB" | "MongoDB";
	/** Env for a fresh, empty database of this backend. */
	env(): EnvOverrides;
}

const nedb: DatabaseBackend = { name: "NeDB", env: () => ({ MONGO_URI: undefined }) };
const mongo: DatabaseBackend = { name: "MongoDB", env: () => ({ MONGO_URI: `${serverUrls.mongo}/${uniqueName("test")}` }) };

/** Runs the same suite on NeDB and on the MongoDB server. */
export function describeEachDatabase(title: string, body: (backend: DatabaseBackend) => void): void {
	describe(`${title} (NeDB)`, () => body(nedb));
	describeWithServers(["mongo"], `${title} (MongoDB)`, () => body(mongo));
}

/** Every service the app has (services/<name>/<name>.service.ts), as `npm start` runs them. */
export function allServices(): AnyServiceSchema[] {
	const dir = path.join(__dirname, "../../services");
	return (
		readdirSync(dir)
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			.map(name => require(path.join(dir, name, `${name}.service`)).default as AnyServiceSchema)
	);
}
