// One autocannon run, in its own process so the load generator does not share
// a core's event loop with what it measures. Sends the summary to its parent.
import autocannon from "autocannon";
import { randomUUID } from "node:crypto";

const url = process.env.BENCH_URL!;
const uniqueQuery = process.env.BENCH_UNIQUE_QUERY;
const cpuAtStart = process.cpuUsage();

autocannon(
	{
		url,
		connections: Number(process.env.BENCH_CONNECTIONS ?? 50),
		headers: JSON.parse(process.env.BENCH_HEADERS ?? "{}"),
		duration: Number(process.env.BENCH_SECONDS ?? 3),
		// A fresh query value per request defeats caches (the cache-miss scenario).
		requests: uniqueQuery
			? [{ setupRequest: req => ({ ...req, path: `${new URL(url).pathname}${new URL(url).search}&${uniqueQuery}=${randomUUID()}` }) }]
			: undefined,
	},
	(err, result) => {
		if (err) {
			console.error(err);
			process.exit(1);
		}
		const cpu = process.cpuUsage(cpuAtStart);
		process.send!({
			rps: result.requests.average,
			p50: result.latency.p50,
			p99: result.latency.p99,
			errors: result.errors,
			non2xx: result.non2xx,
			requests: result.requests.total,
			loadCpuMicros: cpu.user + cpu.system,
		});
		process.exit(0);
	},
);
