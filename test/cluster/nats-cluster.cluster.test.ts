// Breaks: one server of a 3-server NATS cluster, SIGKILLed mid-checkout: the
// one leading the order.confirmed stream, then restarted.
// Holds: the shop (its nodes spread over the three servers, facts on streams
// with 3 copies) keeps taking orders; a checkout that fails says so with the
// contract's error shape, and none hangs; once the server is back and the
// cluster settles, no order is lost or charged twice and every invariant holds.
// The stall and the failures are printed, for the README's failure table.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import { checkConsistency, everything } from "../../lib/ops/consistency";
import { uniqueName } from "../support/app";
import { clientNode, Cluster, SHOP_SERVICES } from "../support/cluster";
import type { JsonResponse } from "../support/http";
import { NatsCluster } from "../support/nats-cluster";
import { describeWithTools, natsServerBinary } from "../support/nats-server";
import { clusterEnv, describeWithServers } from "../support/servers";
import { Shopper, someProduct } from "../support/shop";
import { eventually } from "../support/wait";
import type { Order, Payment } from "../../lib/contract/contract";

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

interface Attempt {
	step: "cart" | "checkout";
	at: number;
	ms: number;
	status: number;
	body: unknown;
}

describeWithServers(["redis", "mongo"], "the shop on a NATS cluster", () =>
	describeWithTools("the shop on a 3-server NATS cluster losing a server", { "nats-server": natsServerBinary }, () => {
		const namespace = uniqueName("natsha");
		let dir = "";
		let nats: NatsCluster;
		let cluster: Cluster;
		let client: ServiceBroker;
		let url = "";
		const envOf = (first: number) => ({ TRANSPORTER: nats.transporter(first) });

		beforeAll(async () => {
			dir = mkdtempSync(path.join(os.tmpdir(), "nats-cluster-"));
			nats = await NatsCluster.start(dir);
			const env = clusterEnv(namespace, { FACT_STREAM_REPLICAS: "3", RATE_LIMIT: "1000000", AUTH_RATE_LIMIT: "100000", ORDER_LEASE_MS: "4000" });
			cluster = new Cluster(env);
			// Each node's list starts at another server (nats.js then shuffles it): the nodes end up on all three.
			url = await cluster.startShop({ envOf: i => envOf(i % 3) });
			client = await clientNode({ ...env, ...envOf(2) });
			await client.waitForServices(SHOP_SERVICES, 60_000);
		}, 120_000);
		afterAll(async () => {
			await client?.stop();
			await cluster?.stopAll();
			await nats?.stop();
			if (dir) rmSync(dir, { recursive: true, force: true });
		});

		it("keeps facts on three servers", async () => {
			// Consumers create the streams at start; FACT_STREAM_REPLICAS=3 puts a copy on every server.
			const stream = await eventually(
				() => nats.stream(`${namespace}_order_confirmed`),
				s => s?.leader != null && s.replicas?.length === 2,
			);
			expect(new Set([stream!.leader, ...stream!.replicas!.map(r => r.name)])).toEqual(new Set(nats.names));
		});

		it("keeps taking orders while the stream leader's server is SIGKILLed and restarted, and loses or double-charges none", async () => {
			const admin = await Shopper.admin(url);
			const product = await someProduct(url, "toys", 0);
			expect((await admin.call("PATCH", `/inventory/${product.id}`, { available: 5000 })).status).toBe(200);
			const shoppers = await Promise.all(Array.from({ length: 8 }, () => Shopper.register(url)));

			const attempts: Attempt[] = [];
			let shopping = true;
			const attempt = async (step: Attempt["step"], send: () => Promise<JsonResponse>) => {
				const at = Date.now();
				const res = await send().catch((err: Error) => ({ status: 0, body: err.message }));
				attempts.push({ step, at, ms: Date.now() - at, status: res.status, body: res.body });
				return res.status;
			};
			const shop = async (shopper: Shopper) => {
				while (shopping) {
					if ((await attempt("cart", () => shopper.addToCart(product.id, 1))) !== 200) await sleep(200);
					else await attempt("checkout", () => shopper.checkout());
				}
			};
			const load = Promise.all(shoppers.map(shop));

			await sleep(5000);
			const leaderName = (await nats.stream(`${namespace}_order_confirmed`))!.leader!;
			const leader = nats.byName(leaderName);
			const connections = await nats.connections();
			const killedAt = Date.now();
			await leader.stop("SIGKILL");
			await sleep(15_000);
			await leader.restart();
			const restartedAt = Date.now();
			await sleep(8000);
			shopping = false;
			await load;

			const checkouts = attempts.filter(a => a.step === "checkout");
			const placed = checkouts.filter(a => a.status === 201 || a.status === 202);
			const failed = attempts.filter(a => a.status !== 200 && a.status !== 201 && a.status !== 202);
			// The longest time around the kill in which no checkout succeeded.
			const done = placed.map(a => a.at + a.ms).sort((a, b) => a - b);
			const around = [killedAt, ...done.filter(t => t > killedAt)];
			const stallMs = Math.max(...around.slice(1).map((t, i) => t - around[i]));
			const byStatus = failed.reduce<Record<string, number>>(
				(counts, a) => ({ ...counts, [`${a.step} ${a.status}`]: (counts[`${a.step} ${a.status}`] ?? 0) + 1 }),
				{},
			);
			console.log(
				[
					`NATS server ${leaderName} (stream leader; client connections before: ${JSON.stringify(connections)}) SIGKILLed, restarted after ${restartedAt - killedAt} ms`,
					`checkouts: ${checkouts.length} sent, ${placed.length} placed; longest stall after the kill ${stallMs} ms; slowest answer ${Math.max(...attempts.map(a => a.ms))} ms`,
					`failed requests (of ${attempts.length}): ${failed.length ? JSON.stringify(byStatus) : "none"}`,
					...failed.map(
						a =>
							`  ${a.step} ${a.status} ${(a.body as { type?: string })?.type ?? ""}: sent ${a.at - killedAt} ms after the kill, answered in ${a.ms} ms`,
					),
				].join("\n"),
			);

			// Orders were taken before, during and after the outage.
			expect(placed.filter(a => a.at < killedAt).length).toBeGreaterThan(0);
			expect(placed.filter(a => a.at > killedAt + 2000 && a.at < restartedAt).length).toBeGreaterThan(0);
			expect(placed.filter(a => a.at > restartedAt).length).toBeGreaterThan(0);
			// A failure is an answer in the contract's error shape, a server error at worst; nothing hangs past checkout's own timeout (25 s).
			for (const a of failed) {
				expect({ status: a.status, body: a.body }).toEqual({
					status: a.status,
					body: expect.objectContaining({ name: expect.any(String), code: a.status, type: expect.any(String) }),
				});
			}
			expect(Math.max(...attempts.map(a => a.ms))).toBeLessThan(30_000);
			// Only what was in flight as the server died may fail: once the clients have moved (a few seconds), nothing does.
			expect(failed.filter(a => a.at > killedAt + 5000).map(a => `${a.step} ${a.status} sent ${a.at - killedAt} ms after the kill`)).toEqual([]);

			const call = <T>(action: string, params: Record<string, unknown> = {}) => client.call<T, object>(action, params);
			// Settled: every invariant (every order settled, one shipment and one confirmation per paid order, stock conserved, outboxes empty).
			await nats.jetStreamReady();
			const report = await eventually(
				() => checkConsistency(call),
				r => r.ok,
				60_000,
			);
			expect(report.violations).toEqual([]);
			// No order a shopper was told about is missing, and none is charged twice.
			const ids = new Set((await everything<Order>(call, "orders.all")).map(o => o.id));
			expect(placed.map(a => (a.body as Order).id).filter(id => !ids.has(id))).toEqual([]);
			const payments = await everything<Payment>(call, "payments.all");
			expect(payments.length).toBe(new Set(payments.map(p => p.orderId)).size);
			// The restarted server caught up: every copy of the stream is current again.
			const stream = await eventually(
				() => nats.stream(`${namespace}_order_confirmed`),
				s => s?.replicas?.length === 2 && s.replicas.every(r => r.current),
			);
			expect(stream?.replicas?.every(r => r.current)).toBe(true);
		}, 150_000);
	}),
);
