// A RabbitMQ of a test's own, for tests that kill it (the shared one of
// scripts/infra.sh must not be disturbed): started and stopped by that same
// script, with its state in a folder of the test's own and on a port of its
// own. RabbitMQ takes seconds to boot, so starting is asynchronous: the test's
// load keeps running meanwhile.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { waitFor } from "./cluster";

const script = path.join(__dirname, "../../scripts/infra.sh");
/** Where scripts/infra.sh runs RabbitMQ from (the Debian package's scripts). */
export const rabbitmqServerBinary = existsSync("/usr/lib/rabbitmq/bin/rabbitmq-server") ? "/usr/lib/rabbitmq/bin/rabbitmq-server" : undefined;
/** scripts/infra.sh puts a node's Erlang distribution port this far above its AMQP port. */
const DIST_PORT_OFFSET = 20_000;

function portFree(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const server = net.createServer();
		server.once("error", () => resolve(false));
		server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
	});
}

/** A free port whose distribution port is free too (an ephemeral port's would be beyond 65535). */
async function freePortPair(): Promise<number> {
	for (;;) {
		const port = 20_000 + Math.floor(Math.random() * 25_000);
		if ((await portFree(port)) && (await portFree(port + DIST_PORT_OFFSET))) return port;
	}
}

export class RabbitMqServer {
	private constructor(
		readonly port: number,
		private readonly dir: string,
	) {}

	/** Starts a server whose state lives under `dir`. */
	static async start(dir: string): Promise<RabbitMqServer> {
		const server = new RabbitMqServer(await freePortPair(), dir);
		await server.restart();
		return server;
	}

	get url(): string {
		return `amqp://guest:guest@127.0.0.1:${this.port}`;
	}

	/** Starts it again (same port, same queues on disk); resolves once it has booted. */
	async restart(): Promise<void> {
		await this.infra("start");
	}

	/** Stops it gracefully (infra.sh stop: SIGTERM, RabbitMQ closes its queues). */
	async stop(): Promise<void> {
		await this.infra("stop");
	}

	/**
	 * A hard crash: SIGKILL to the Erlang VM, which gets no chance to close a
	 * connection or a queue. infra.sh keeps the pid of the rabbitmq-server
	 * script, whose child is the VM; the script ends with it.
	 */
	async kill(): Promise<void> {
		const wrapper = Number(readFileSync(path.join(this.dir, "run/rabbitmq.pid"), "utf8"));
		const { stdout } = await promisify(execFile)("pgrep", ["-P", String(wrapper), "beam.smp"]);
		process.kill(Number(stdout.trim()), "SIGKILL");
		await waitFor(
			async () => !alive(wrapper),
			10_000,
			() => `rabbitmq-server (pid ${wrapper}) outlived its VM`,
		);
	}

	private async infra(command: "start" | "stop"): Promise<void> {
		await promisify(execFile)("bash", [script, command, "rabbitmq"], {
			env: { ...process.env, INFRA_DIR: this.dir, INFRA_RABBITMQ_PORT: String(this.port) },
		});
	}
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}
