// A node for the benchmarks: the app's broker configuration and services
// (BENCH_SERVICES, comma-separated, services/<name>/ or "bench"), started the
// way moleculer-runner would, plus bench-only gateway routes and the work
// counters (bench/work-counters.ts).
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { brokerConfig } from "../moleculer.config";
import { readEnv } from "../lib/platform/env";
import ApiService from "../services/api/api.service";
import BenchService from "./bench.service";
import { answerCounterRequests, countDatabaseCommands, WorkCounters } from "./work-counters";

function gatewayWithBenchRoutes(): ServiceSchema {
	const routes = ApiService.settings!.routes.map((route: { path: string; aliases: object }) =>
		route.path === "/api"
			? {
					...route,
					aliases: {
						...route.aliases,
						"GET bench/cpu": "bench.cpu",
						"GET bench/echo": "bench.echo",
						"POST bench/echo": "bench.echo",
						"GET bench/private": "bench.private",
					},
				}
			: route,
	);
	return { ...ApiService, settings: { ...ApiService.settings, routes } } as ServiceSchema;
}

/** On every bench node: its memory after a full collection, for the soak. */
const MemoryProbe: ServiceSchema = {
	name: "benchMemory",
	actions: {
		afterGc: () => {
			global.gc?.();
			const { heapUsed, rss } = process.memoryUsage();
			return { heapMb: heapUsed / 1e6, rssMb: rss / 1e6 };
		},
	},
};

async function main(): Promise<void> {
	// As in production, where dist/ runs without source maps: tsx turns them
	// on, and then every stack trace something reads is mapped back, at a cost.
	process.setSourceMapsEnabled(false);
	const config = brokerConfig(readEnv());
	const broker = new ServiceBroker({ ...config, middlewares: [...(config.middlewares ?? []), WorkCounters] });
	countDatabaseCommands(broker);
	answerCounterRequests();
	broker.createService(MemoryProbe);
	for (const name of (process.env.BENCH_SERVICES ?? "").split(",").filter(Boolean)) {
		if (name === "bench") broker.createService(BenchService);
		else if (name === "api") broker.createService(gatewayWithBenchRoutes());
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		else broker.createService(require(`../services/${name}/${name}.service`).default);
	}
	await broker.start();
	process.send?.({ ready: true, nodeID: broker.nodeID });
	for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => broker.stop().then(() => process.exit(0)));
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
