// A server program of a test's own (the shared servers of scripts/infra.sh
// must not be disturbed): started with fixed arguments, ready once its log
// says so, and stoppable (gracefully or SIGKILLed) and restartable with the
// same arguments, so on the same port.
import { spawn, type ChildProcess } from "node:child_process";
import { waitFor } from "./cluster";

export class ServerProcess {
	log = "";
	private process?: ChildProcess;
	private exited: Promise<void> = Promise.resolve();

	constructor(
		private readonly binary: string,
		private readonly args: string[],
		/** A line the server logs once it accepts connections. */
		private readonly readyLine: string,
		/** Variables added to the test's environment. */
		private readonly env: NodeJS.ProcessEnv = {},
	) {}

	get running(): boolean {
		return this.process != null && this.process.exitCode == null && this.process.signalCode == null;
	}

	/** (Re)starts the server with the same arguments. */
	async restart(): Promise<void> {
		await this.stop();
		const logFrom = this.log.length;
		const child = spawn(this.binary, this.args, { env: { ...process.env, ...this.env }, stdio: ["ignore", "pipe", "pipe"] });
		this.process = child;
		this.exited = new Promise(resolve => child.once("exit", () => resolve()));
		child.stdout!.on("data", chunk => (this.log += chunk));
		child.stderr!.on("data", chunk => (this.log += chunk));
		await waitFor(
			async () => this.log.slice(logFrom).includes(this.readyLine),
			15_000,
			() => this.log.slice(-2000),
		);
	}

	async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
		if (this.running) this.process!.kill(signal);
		await this.exited;
	}
}
