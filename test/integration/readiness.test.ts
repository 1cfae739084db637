// Ready means ready: a node says so only once what it seeds on start is in
// place, so the first checkout after readiness finds the demo stock.
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { brokerConfig } from "../../moleculer.config";
import { readEnv } from "../../lib/platform/env";
import { nodeReadiness } from "../../lib/platform/readiness";
import { allServices } from "../support/app";
import type { Availability, Page, Product } from "../../lib/contract/contract";

describe("readiness on embedded defaults", () => {
	it("reports ready only once every demo product has stock", async () => {
		const broker = new ServiceBroker({ ...brokerConfig(readEnv({ NODE_ENV: "test", PORT: "0" })), logger: false });
		for (const schema of allServices()) broker.createService(schema as ServiceSchema);
		await broker.start();
		try {
			while ((await nodeReadiness(broker)).status !== "ok") await new Promise(resolve => setTimeout(resolve, 5));
			const products = await broker.call<Page<Product>, object>("products.list", { pageSize: 100 });
			expect(products.rows.length).toBeGreaterThan(0);
			const levels = await Promise.all(
				products.rows.map(product => broker.call<Availability, object>("inventory.availability", { productId: product.id })),
			);
			expect(levels.filter(level => level.available === 0)).toEqual([]);
		} finally {
			await broker.stop();
		}
	});
});
