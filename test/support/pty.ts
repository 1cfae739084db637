// A program on a pseudo-terminal, typed at the way a person types at it: the
// Moleculer REPL only prompts, echoes and edits lines like it does for
// operators when it runs on a terminal. The terminal comes from `script`
// (util-linux), which every machine that runs the cluster tests has.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";

// CSI sequences (colours, cursor moves, erase), OSC titles and charset switches.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>]/g;

/** What a person would read: no escape sequences, no carriage returns. */
export function stripAnsi(text: string): string {
	return text.replace(ANSI, "").replace(/\r/g, "");
}

function shellQuote(word: string): string {
	return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface TerminalOptions {
	cwd: string;
	env: NodeJS.ProcessEnv;
	/** The REPL's prompt: where one command's output ends. */
	prompt: string;
	columns?: number;
	/** Everything the terminal showed, escape sequences included, for a failing test. */
	logFile?: string;
}

export class Terminal {
	private raw = "";
	private readonly child: ChildProcess;
	private readonly log?: WriteStream;
	private readonly listeners = new Set<() => void>();
	readonly exited: Promise<number | null>;

	constructor(
		command: string,
		args: string[],
		private readonly options: TerminalOptions,
	) {
		const line = `stty cols ${options.columns ?? 200} rows 50 && exec ${[command, ...args].map(shellQuote).join(" ")}`;
		// Its own process group, so close() ends the program and `script` together.
		this.child = spawn("script", ["-qfec", line, "/dev/null"], { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"], detached: true });
		if (options.logFile) this.log = createWriteStream(options.logFile);
		const take = (chunk: Buffer) => {
			this.raw += chunk.toString("utf8");
			this.log?.write(chunk);
			for (const listener of this.listeners) listener();
		};
		this.child.stdout!.on("data", take);
		this.child.stderr!.on("data", take);
		this.exited = new Promise(resolve =>
			this.child.once("exit", code => {
				this.child.stdin!.destroy(); // nothing left to type to; let the test process exit
				for (const listener of this.listeners) listener();
				this.log?.end();
				resolve(code);
			}),
		);
	}

	/** The screen so far, as text. */
	get output(): string {
		return stripAnsi(this.raw);
	}

	get running(): boolean {
		return this.child.exitCode == null && this.child.signalCode == null;
	}

	/** Types `line` and Enter. */
	type(line: string): void {
		this.child.stdin!.write(`${line}\r`);
	}

	/** Resolves with the output from `from` on once `pattern` matches it. */
	async waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
		const seen = () => stripAnsi(this.raw.slice(from));
		if (pattern.test(seen())) return seen();
		return new Promise((resolve, reject) => {
			const check = () => {
				if (pattern.test(seen())) finish(() => resolve(seen()));
				else if (!this.running) finish(() => reject(new Error(`The program exited before printing ${pattern}\n${this.tail()}`)));
			};
			const timer = setTimeout(
				() => finish(() => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${pattern}\n${this.tail()}`))),
				timeoutMs,
			);
			const finish = (settle: () => void) => {
				clearTimeout(timer);
				this.listeners.delete(check);
				settle();
			};
			this.listeners.add(check);
		});
	}

	/**
	 * Types a command and resolves with what it printed: everything between
	 * the echoed command line and the next prompt.
	 */
	async run(line: string, timeoutMs = 60_000): Promise<string> {
		const from = this.raw.length;
		this.type(line);
		const prompt = this.options.prompt.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
		const seen = await this.waitFor(new RegExp(`\\n[^]*?${prompt}`), timeoutMs, from);
		const output = seen.slice(seen.indexOf("\n") + 1);
		return output.slice(0, output.lastIndexOf(this.options.prompt)).trimEnd();
	}

	/** The last lines shown, for error messages. */
	tail(lines = 40): string {
		return this.output.split("\n").slice(-lines).join("\n");
	}

	/** Resolves with the exit code once the program has ended; rejects after `timeoutMs`. */
	async waitForExit(timeoutMs: number): Promise<number | null> {
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new Error(`Still running after ${timeoutMs} ms\n${this.tail()}`)), timeoutMs);
		});
		try {
			return await Promise.race([this.exited, timeout]);
		} finally {
			clearTimeout(timer);
		}
	}

	/** Kills the program and `script` (the whole process group) unless they have ended. */
	async close(): Promise<void> {
		if (this.running) {
			try {
				process.kill(-this.child.pid!, "SIGKILL");
			} catch {
				// already gone
			}
		}
		await this.exited;
	}
}
