// Jaeger is a bystander: no request waits on it. When it dies (SIGKILL) the
// nodes answer as before; each node's exporter fails its post every 5 s, logs
// one warning for it and drops those spans; once Jaeger is back the next
// posts land and new requests are traced again, with no node restarted.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { uniqueName } from "../support/app";
import { Cluster, freePort, waitFor, type ClusterNode } from "../support/cluster";
import { findTraces, TRACING_EXPORTER } from "../support/jaeger";
import { JaegerServer, jaegerBinary } from "../support/jaeger-server";
import { failures, startLoad } from "../support/load";
import { describeWithTools } from "../support/nats-server";
import { clusterEnv, describeWithServers } from "../support/servers";
import { eventually } from "../support/wait";

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
/** Moleculer's exporters post their spans every 5 s. */
const FLUSH_MS = 5000;
const OUTAGE_MS = 12_000;
/** What Moleculer's Zipkin exporter logs for a failed post. */
const UPLOAD_FAILED = "Unable to upload tracing spans";

describeWithServers(["nats", "redis", "mongo"], "Jaeger down", () => {
	describeWithTools("a cluster tracing into a Jaeger of its own", { jaeger: jaegerBinary }, () => {
		let jaeger: JaegerServer;
		let cluster: Cluster;
		let nodes: ClusterNode[] = [];
		let url = "";

		// A catalog read through the gateway, traced under its own request id.
		const browse = (requestID: string) => fetch(`${url}/api/products?q=${requestID}`, { headers: { "x-request-id": requestID } });
		const traced = async (requestID: string) => (await findTraces("api", { requestID }, jaeger.queryUrl)).length;

		beforeAll(async () => {
			jaeger = await JaegerServer.start();
			cluster = new Cluster(
				clusterEnv(uniqueName("jaegerloss"), { TRACING_EXPORTER, TRACING_URL: jaeger.zipkinUrl, RATE_LIMIT: "1000000", AUTH_RATE_LIMIT: "100000" }),
			);
			const port = await freePort();
			url = `http://127.0.0.1:${port}`;
			nodes = [cluster.start("gateway", "api", { PORT: String(port) }), cluster.start("catalog", "products,inventory")];
			await waitFor(
				async () => (await browse(randomUUID())).status === 200,
				60_000,
				() => cluster.logs(),
			);
		});
		afterAll(async () => {
			await cluster?.stopAll();
			await jaeger?.stop();
		});

		it("traces a request while Jaeger is up", async () => {
			const requestID = randomUUID();
			expect((await browse(requestID)).status).toBe(200);
			expect(
				await eventually(
					() => traced(requestID),
					count => count === 1,
					20_000,
				),
			).toBe(1);
		});

		it("answers as usual while Jaeger is down, with one warning per node per failed post", async () => {
			const warnings = () => nodes.map(node => readFileSync(node.logFile, "utf8").split(UPLOAD_FAILED).length - 1);
			const before = warnings();
			await jaeger.stop("SIGKILL");
			const load = startLoad(() => browse(randomUUID()), 2);
			await sleep(OUTAGE_MS);
			const answers = await load.stop();
			// Spans of the last requests go out with the next post, which fails too.
			await sleep(FLUSH_MS + 1000);

			const slowest = Math.max(...answers.map(a => a.ms));
			console.log(
				`Jaeger down: ${answers.length} reads, all answered, slowest ${slowest} ms; warnings per node: ${warnings().map((n, i) => n - before[i])}`,
			);
			expect(answers.length).toBeGreaterThan(50);
			expect(failures(answers)).toEqual([]);
			expect(slowest).toBeLessThan(1000);
			// The loss is logged, once per post: no storm.
			const posts = Math.ceil((OUTAGE_MS + FLUSH_MS + 1000) / FLUSH_MS);
			for (const [i, count] of warnings().entries()) {
				expect(count - before[i]).toBeGreaterThan(0);
				expect(count - before[i]).toBeLessThanOrEqual(posts);
			}
		}, 60_000);

		it("traces new requests once Jaeger is back, the outage's spans lost", async () => {
			const during = randomUUID();
			expect((await browse(during)).status).toBe(200);
			await sleep(FLUSH_MS + 1000);
			await jaeger.restart();
			const after = randomUUID();
			expect((await browse(after)).status).toBe(200);
			expect(
				await eventually(
					() => traced(after),
					count => count === 1,
					20_000,
				),
			).toBe(1);
			expect(await traced(during)).toBe(0);
			expect(nodes.filter(node => node.child.exitCode != null || node.child.signalCode != null).map(node => node.name)).toEqual([]);
		}, 40_000);
	});
});
