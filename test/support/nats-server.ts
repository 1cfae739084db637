// A nats-server of a test's own (the shared one of scripts/infra.sh must not be
// disturbed): its own port, config and JetStream store, stoppable and
// restartable on the same port and store.
import { accessSync, constants, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort } from "./cluster";
import { ServerProcess } from "./server-process";
import { describeWhen } from "./servers";

/** An executable on PATH, or where Debian puts daemons (nats-server is in /usr/sbin). */
export function findExecutable(name: string): string | undefined {
	const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"];
	for (const dir of dirs.filter(Boolean)) {
		const file = path.join(dir, name);
		try {
			accessSync(file, constants.X_OK);
			return file;
		} catch {
			// not here
		}
	}
	return undefined;
}

/** Like describeWithServers, for programs: skipped loudly when missing, failed under REQUIRE_INFRA=1. */
export function describeWithTools(title: string, tools: Record<string, string | undefined>, body: () => void): void {
	const missing = Object.entries(tools)
		.filter(([, file]) => !file)
		.map(([name]) => name);
	describeWhen(missing.length === 0, `needs ${missing.join(" and ")} (Debian: apt-get install ${missing.join(" ")}, or npm run infra:up)`, title, body);
}

export const natsServerBinary = findExecutable("nats-server");

export class NatsServer extends ServerProcess {
	private constructor(
		readonly port: number,
		readonly monitorPort: number,
		configFile: string,
	) {
		super(natsServerBinary!, ["-c", configFile], "Server is ready");
	}

	/** Starts on free ports with JetStream under `dir`; `extraConfig` lines add TLS, users and so on. */
	static async start(dir: string, extraConfig: string[] = []): Promise<NatsServer> {
		const server = await NatsServer.configure(dir, extraConfig);
		await server.restart();
		return server;
	}

	/** Writes the config of a server on free ports with JetStream under `dir`, without starting it. */
	static async configure(dir: string, extraConfig: string[] = []): Promise<NatsServer> {
		const [port, monitorPort] = await Promise.all([freePort(), freePort()]);
		mkdirSync(dir, { recursive: true });
		const configFile = path.join(dir, "nats-server.conf");
		writeFileSync(
			configFile,
			[
				`listen: "127.0.0.1:${port}"`,
				`http: "127.0.0.1:${monitorPort}"`,
				`jetstream { store_dir: ${JSON.stringify(path.join(dir, "jetstream"))} }`,
				...extraConfig,
			].join("\n"),
		);
		return new NatsServer(port, monitorPort, configFile);
	}

	get url(): string {
		return `nats://127.0.0.1:${this.port}`;
	}

	/** A page of the monitoring endpoint, e.g. `jsz?accounts=true&streams=true` or `connz`. */
	async monitor<T>(page: string): Promise<T> {
		const res = await fetch(`http://127.0.0.1:${this.monitorPort}/${page}`);
		if (!res.ok) throw new Error(`/${page} answered ${res.status}`);
		return (await res.json()) as T;
	}
}
