// Stock moleculer-web on a default broker: one trivial local action that
// returns the same JSON, and nothing else on (no cache, metrics, rate limit,
// validation or hooks). What any gateway built on moleculer-web starts from.
import { ServiceBroker } from "moleculer";
import ApiGateway from "moleculer-web";

const page = JSON.parse(process.env.BENCH_BODY ?? "{}");
const broker = new ServiceBroker({ logger: false });
broker.createService({ name: "catalog", actions: { page: () => page } });
broker.createService({
	name: "api",
	mixins: [ApiGateway],
	settings: { port: Number(process.env.PORT), ip: "127.0.0.1", routes: [{ path: "/api", aliases: { "GET products": "catalog.page" } }] },
});
broker.start().then(() => process.send?.({ ready: true }));
