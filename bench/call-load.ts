// Broker-level calls without HTTP: `bench.echo` with BENCH_CONCURRENCY calls in
// flight for BENCH_SECONDS, locally (the bench service in this broker) or over the
// transporter to a bench node. Sends {callsPerSecond, p50, p99} to its parent.
import { ServiceBroker } from "moleculer";
import { brokerConfig } from "../moleculer.config";
import { readEnv } from "../lib/platform/env";
import BenchService from "./bench.service";

async function main(): Promise<void> {
	const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 1);
	const seconds = Number(process.env.BENCH_SECONDS ?? 3);
	const remote = Boolean(process.env.TRANSPORTER);
	const broker = new ServiceBroker({ ...brokerConfig(readEnv()), logger: false, nodeID: `bench-caller-${process.pid}` });
	if (!remote) broker.createService(BenchService);
	await broker.start();
	await broker.waitForServices(["bench"], 30_000);
	const payload = { id: 42, name: "a small payload", tags: ["a", "b", "c"], price: 1999 };

	// Warm up connections and JIT before measuring.
	for (let i = 0; i < 200; i++) await broker.call("bench.echo", payload);

	const latencies: number[] = [];
	const end = Date.now() + seconds * 1000;
	const worker = async () => {
		while (Date.now() < end) {
			const start = process.hrtime.bigint();
			await broker.call("bench.echo", payload);
			latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
		}
	};
	const began = Date.now();
	await Promise.all(Array.from({ length: concurrency }, worker));
	const elapsed = (Date.now() - began) / 1000;
	latencies.sort((a, b) => a - b);
	process.send!({
		callsPerSecond: latencies.length / elapsed,
		p50: latencies[Math.floor(latencies.length * 0.5)],
		p99: latencies[Math.floor(latencies.length * 0.99)],
	});
	await broker.stop();
	process.exit(0);
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
