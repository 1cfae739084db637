// Processes the benchmarks start and stop: servers, app nodes, load drivers.
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";

import type { WorkCounts } from "./work-counters";

export { freePort } from "../test/support/cluster";

const ROOT = path.join(__dirname, "..");
const TSX = path.join(ROOT, "node_modules/tsx/dist/loader.mjs");

export interface Proc {
	name: string;
	child: ChildProcess;
	/** The broker's node id, for app nodes (from their ready message). */
	nodeID?: string;
	stop(): Promise<void>;
}

const running = new Set<Proc>();

/** Forks a TypeScript entry (run through tsx) and waits for its `{ready}` message. */
export function start(name: string, entry: string, env: Record<string, string>, timeoutMs = 60_000): Promise<Proc> {
	const child = fork(path.join(ROOT, entry), [], {
		cwd: ROOT,
		env: { ...process.env, NODE_ENV: "development", LOGLEVEL: "fatal", METRICS_PORT: "off", ...env },
		// --expose-gc: the soak reads each node's heap after a full collection.
		execArgv: ["--import", TSX, "--expose-gc", "--disable-warning=DEP0174"],
		stdio: ["ignore", "ignore", "inherit", "ipc"],
	});
	const proc: Proc = {
		name,
		child,
		stop: () =>
			new Promise(resolve => {
				running.delete(proc);
				if (child.exitCode != null || child.signalCode != null) return resolve();
				child.once("exit", () => resolve());
				child.kill("SIGTERM");
				setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
			}),
	};
	running.add(proc);
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms`)), timeoutMs);
		child.once("message", (message: { nodeID?: string }) => {
			clearTimeout(timer);
			proc.nodeID = message.nodeID;
			resolve(proc);
		});
		child.once("exit", code => reject(new Error(`${name} exited with ${code} before it was ready`)));
	});
}

/** What a bench node counted since the last ask (bench/work-counters.ts). */
export function workCounts(proc: Proc): Promise<WorkCounts> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${proc.name} did not report its counters`)), 10_000);
		const onMessage = (message: { counters?: WorkCounts }) => {
			if (!message.counters) return;
			clearTimeout(timer);
			proc.child.off("message", onMessage);
			resolve(message.counters);
		};
		proc.child.on("message", onMessage);
		proc.child.send({ counters: true });
	});
}

export async function stopAll(): Promise<void> {
	await Promise.all([...running].map(proc => proc.stop()));
}

export async function waitUntil(ok: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (await ok().catch(() => false)) return;
		await new Promise(resolve => setTimeout(resolve, 200));
	}
	throw new Error(`timed out waiting for ${what}`);
}

/** Forks a TypeScript entry that measures something and resolves with the result it sends. */
export function measure<T>(entry: string, env: Record<string, string>, timeoutMs = 300_000): Promise<T> {
	const child = fork(path.join(ROOT, entry), [], {
		cwd: ROOT,
		env: { ...process.env, NODE_ENV: "development", LOGLEVEL: "fatal", METRICS_PORT: "off", ...env },
		execArgv: ["--import", TSX],
		stdio: ["ignore", "ignore", "inherit", "ipc"],
	});
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			child.kill("SIGKILL");
			reject(new Error(`${entry} took longer than ${timeoutMs} ms`));
		}, timeoutMs);
		child.once("message", message => {
			clearTimeout(timer);
			resolve(message as T);
		});
		child.once("exit", code => {
			clearTimeout(timer);
			if (code !== 0) reject(new Error(`${entry} exited with ${code}`));
		});
	});
}
