// A redis-server of a test's own, for tests that kill Redis (the shared one of
// scripts/infra.sh must not be disturbed): a free port, no persistence, so a
// SIGKILL loses everything it held, as a restarted cache node would.
import { freePort } from "./cluster";
import { findExecutable } from "./nats-server";
import { ServerProcess } from "./server-process";

export const redisServerBinary = findExecutable("redis-server");

export class RedisServer extends ServerProcess {
	private constructor(
		readonly port: number,
		dir: string,
	) {
		super(
			redisServerBinary!,
			["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "no"],
			"Ready to accept connections",
		);
	}

	get url(): string {
		return `redis://127.0.0.1:${this.port}`;
	}

	/** Starts on a free port; `dir` is its working directory. */
	static async start(dir: string): Promise<RedisServer> {
		const server = new RedisServer(await freePort(), dir);
		await server.restart();
		return server;
	}
}
