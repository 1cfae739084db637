// Two nodes over real NATS, each caching catalog reads: a change made on one
// node must not leave the other serving the old catalog.
import ProductsService from "../../services/products/products.service";
import { startApp, uniqueName, type TestApp } from "../support/app";
import { describeWithServers, serverUrls } from "../support/servers";
import type { Page, Product } from "../../lib/contract/contract";

const cachers = [
	{ name: "in-process LRU cache on each node", env: { CACHER: undefined } },
	{ name: "shared Redis cache", env: { CACHER: serverUrls.redis } },
];

describeWithServers(["nats", "redis", "mongo"], "cache invalidation across nodes", () => {
	describe.each(cachers)("with a $name", ({ env }) => {
		let nodeA: TestApp;
		let nodeB: TestApp;
		beforeAll(async () => {
			const shared = { ...env, TRANSPORTER: serverUrls.nats, NAMESPACE: uniqueName("ns"), MONGO_URI: `${serverUrls.mongo}/${uniqueName("cache")}` };
			nodeA = await startApp([ProductsService], { ...shared, NODEID: "node-a" });
			nodeB = await startApp([ProductsService], { ...shared, NODEID: "node-b" });
		});
		afterAll(async () => {
			await nodeB?.stop();
			await nodeA?.stop();
		});

		it("shows a product created on node B in node A's next list, and B's update in A's next get", async () => {
			const browse = () => nodeA.broker.call<Page<Product>, object>("products.list", { category: "fresh" });
			expect((await browse()).total).toBe(0); // now cached on A
			const created = await nodeB.broker.call<Product, object>("products.create", { sku: "FRESH-1", name: "Fresh", price: 100, category: "fresh" });
			await new Promise(resolve => setTimeout(resolve, 300)); // the broadcast crosses NATS
			expect((await browse()).rows.map(p => p.id)).toEqual([created.id]);

			await nodeA.broker.call("products.get", { id: created.id }); // cached on A
			await nodeB.broker.call("products.update", { id: created.id, price: 250 });
			await new Promise(resolve => setTimeout(resolve, 300));
			await expect(nodeA.broker.call("products.get", { id: created.id })).resolves.toMatchObject({ price: 250 });
		});
	});
});
