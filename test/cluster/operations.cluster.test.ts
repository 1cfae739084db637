// The operators' view, against the real Prometheus of scripts/infra.sh: it
// scrapes every node of a running shop, the alerts of deploy/prometheus fire
// when a catalog node is SIGKILLed under load, and every query of the Grafana
// dashboard returns series (a renamed metric would leave a panel empty).
import { readFileSync } from "node:fs";
import path from "node:path";
import { uniqueName } from "../support/app";
import { Cluster, freePort, waitFor } from "../support/cluster";
import { failures, startLoad } from "../support/load";
import { activeAlerts, nodeTypeOf, query, queryRange, scrapeNodes, type Sample } from "../support/prometheus";
import { clusterEnv, describeWithServers } from "../support/servers";
import { Shopper, someProduct } from "../support/shop";
import { eventually } from "../support/wait";

const DASHBOARD = path.join(__dirname, "../../deploy/grafana/dashboards/moleculer-shop.json");

interface Panel {
	title: string;
	targets?: { expr: string }[];
	panels?: Panel[];
}

function dashboardQueries(): { panel: string; expr: string }[] {
	const panels = (list: Panel[]): Panel[] => list.flatMap(panel => [panel, ...panels(panel.panels ?? [])]);
	const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Panel[] };
	return panels(dashboard.panels).flatMap(panel => (panel.targets ?? []).map(target => ({ panel: panel.title, expr: target.expr })));
}

const total = (samples: Sample[]) => samples.reduce((sum, sample) => sum + sample.value, 0);

describeWithServers(["nats", "redis", "mongo", "prometheus"], "operations: Prometheus over a running shop", () => {
	const namespace = uniqueName("ops");
	const env = clusterEnv(namespace, { RATE_LIMIT: "1000000", AUTH_RATE_LIMIT: "100000" });
	const cluster = new Cluster(env);
	let url = "";
	let scraped: ReturnType<typeof scrapeNodes>;
	// The series of this test's cluster only (Prometheus may be scraping others).
	const ours = `namespace="${namespace}"`;
	// A distinct search every time: a miss in every cache, so a catalog node answers.
	const browse = (i: number) => fetch(`${url}/api/products?pageSize=2&q=ops${i}-${Date.now()}`);

	beforeAll(async () => {
		url = await cluster.startShop({ metrics: true });
		cluster.start("catalog-2", "products,inventory", { METRICS_PORT: String(await freePort()) });
		// The gateway sends the second catalog node its share before Prometheus is told about the nodes.
		await waitFor(
			async () => {
				for (let i = 0; i < 10; i++) await browse(i);
				const text = await (await fetch(`http://127.0.0.1:${cluster.started.at(-1)!.metricsPort}/metrics`)).text();
				return text
					.split("\n")
					.some(line => line.startsWith("moleculer_request_total{") && line.includes('action="products.list"') && line.includes('caller="api"'));
			},
			60_000,
			() => cluster.logs(),
		);
		scraped = scrapeNodes(namespace, cluster.started);
	});
	afterAll(async () => {
		scraped?.remove();
		await cluster.stopAll();
	});

	it("scrapes every node: each target up, each node's requests counted, and the shop's business counters", async () => {
		const admin = await Shopper.admin(url);
		const product = await someProduct(url, "outdoor", 0);
		expect((await admin.call("PATCH", `/inventory/${product.id}`, { available: 10 })).status).toBe(200);
		for (let i = 0; i < 2; i++) {
			const shopper = await Shopper.register(url);
			expect((await shopper.buy(product.id, 1)).body.status).toBe("CONFIRMED");
			expect((await shopper.call("GET", "/notifications")).status).toBe(200);
		}
		const instances = Object.values(scraped.instances);
		const up = await eventually(
			() => query(`up{job="moleculer", instance=~"${instances.join("|")}"}`),
			samples => samples.length === instances.length && samples.every(sample => sample.value === 1),
			30_000,
		);
		expect(up.map(sample => [sample.metric.instance, sample.metric.node_type, sample.value]).sort()).toEqual(
			Object.entries(scraped.instances)
				.map(([name, instance]) => [instance, nodeTypeOf(name), 1])
				.sort(),
		);

		const perNode = await eventually(
			() => query(`sum by (instance) (moleculer_request_total{${ours}, type="local"})`),
			samples => samples.length === instances.length,
			30_000,
		);
		expect(perNode.map(sample => sample.metric.instance).sort()).toEqual([...instances].sort());
		expect(perNode.filter(sample => !(sample.value > 0))).toEqual([]);

		const business = async () => ({
			confirmed: total(await query(`shop_orders_total{${ours}, status="CONFIRMED"}`)),
			paid: total(await query(`shop_payments_total{${ours}, outcome="CAPTURED"}`)),
			reserved: total(await query(`shop_stock_reservations_total{${ours}, outcome="reserved"}`)),
		});
		expect(await eventually(business, counts => counts.confirmed >= 2 && counts.paid >= 2, 30_000)).toEqual({ confirmed: 2, paid: 2, reserved: 2 });
	}, 120_000);

	it("shows a catalog node SIGKILLed under load: its target down, its breaker open, its unanswered calls, one node fewer, and the alerts on each", async () => {
		const victim = cluster.started.find(node => node.name === "catalog-2")!;
		const victimID = `catalog-2-${process.pid}`;
		const nodesOnline = async () => (await query(`moleculer_registry_nodes_online_total{${ours}, instance="${scraped.instances.gateway}"}`))[0]?.value;
		const before = await nodesOnline();
		const reads = startLoad(browse);
		await new Promise(resolve => setTimeout(resolve, 1500));
		await victim.stop("SIGKILL");

		// Prometheus's own view at once; the gateway's as soon as its calls go
		// unanswered (REQUEST_TIMEOUT_MS), and once heartbeats are missed (15 s).
		expect(
			await eventually(
				() => query(`up{instance="${scraped.instances["catalog-2"]}"}`),
				samples => samples[0]?.value === 0,
				15_000,
			),
		).toMatchObject([{ value: 0 }]);
		const unanswered = await eventually(
			() => query(`sum by (affectedNodeID) (shop_unanswered_calls_total{${ours}})`),
			samples => samples.length > 0,
			20_000,
		);
		expect(unanswered.map(sample => sample.metric.affectedNodeID)).toEqual([victimID]);
		expect(await eventually(nodesOnline, count => count === before - 1, 30_000)).toBe(before - 1);
		// The calls still pending on the dead node fail when it is dropped: the gateway's breaker for it opens.
		const breakers = await eventually(
			() => query(`sum by (affectedNodeID) (moleculer_circuit_breaker_opened_total{${ours}})`),
			samples => samples.length > 0,
			20_000,
		);
		expect(breakers.map(sample => sample.metric.affectedNodeID)).toEqual([victimID]);

		const ofThisCluster = async () =>
			(await activeAlerts())
				.filter(alert => alert.state === "firing")
				.filter(alert => alert.labels.namespace === namespace || Object.values(scraped.instances).includes(alert.labels.instance))
				.map(alert => `${alert.labels.alertname} ${alert.labels.instance ?? alert.labels.affectedNodeID ?? ""}`.trim())
				.sort();
		// ShopNodeDown fires after 30 s down; the rest at once.
		expect(await eventually(ofThisCluster, firing => firing.length >= 4, 45_000)).toEqual([
			`ShopCircuitBreakerOpened ${victimID}`,
			`ShopNodeDown ${scraped.instances["catalog-2"]}`,
			`ShopNodeNotAnswering ${victimID}`,
			"ShopNodesLeftCluster",
		]);
		// The other catalog node answered every read: the alerts are about a replica, not lost service.
		expect(failures(await reads.stop())).toEqual([]);
	}, 150_000);

	// After the kill above, which opened a breaker: in a healthy cluster the
	// breaker panel is rightly empty. Panels draw a time range, so each query is
	// asked for the test's last minutes, as Grafana would.
	it("draws every panel of the Grafana dashboard: each query parses and returns series", async () => {
		const emptyPanels = async () => {
			const empty: string[] = [];
			for (const { panel, expr } of dashboardQueries()) if ((await queryRange(expr, 300)).length === 0) empty.push(`${panel}: ${expr}`);
			return empty;
		};
		// A breaker turns half-open 10 s after it opened.
		expect(await eventually(emptyPanels, empty => empty.length === 0, 20_000)).toEqual([]);
	}, 30_000);
});
