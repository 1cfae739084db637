// CPU time per process, read from /proc (Linux). On shared cores throughput
// swings by a fifth between runs, while CPU time per request holds within a
// few per cent, so it is what explains a ratio: where each request's time goes.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** User plus system CPU time a process has used so far, in µs (0 once it is gone). */
export function cpuMicros(pid: number): number {
	try {
		// Fields after "(comm) ": state is [0], utime [11], stime [12].
		const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
		return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
	} catch {
		return 0;
	}
}

/** Starts counting the CPU of named processes; the function it returns gives each one's µs since. */
export function cpuSince(processes: Record<string, number | undefined>): () => Record<string, number> {
	const pids = Object.entries(processes).filter((entry): entry is [string, number] => entry[1] != null);
	const before = new Map(pids.map(([name, pid]) => [name, cpuMicros(pid)]));
	return () => Object.fromEntries(pids.map(([name, pid]) => [name, cpuMicros(pid) - before.get(name)!]));
}

/** Each process's CPU µs per unit of work (request, order), with the load generator's and the total. */
export function perUnit(used: Record<string, number>, loadCpuMicros: number, units: number): Record<string, number> {
	const each = Object.fromEntries(Object.entries({ ...used, load: loadCpuMicros }).map(([name, micros]) => [name, micros / Math.max(units, 1)]));
	return { ...each, total: Object.values(each).reduce((a, b) => a + b, 0) };
}
