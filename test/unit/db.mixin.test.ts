// The db mixin: which database a service gets, how start-up fails, seeding.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import mongoose from "mongoose";
import type { ServiceSchema } from "moleculer";
import { DbMixin, type DbService } from "../../mixins/db.mixin";
import ProductsService from "../../services/products/products.service";
import { serviceDatabaseUri } from "../../lib/platform/service-mongo-adapter";
import { startApp, uniqueName } from "../support/app";
import { describeWithServers, serverUrls } from "../support/servers";
import type { Page, Product } from "../../lib/contract/contract";

function noteService(name: string): ServiceSchema {
	return {
		name,
		mixins: [DbMixin({ fields: { text: String } })],
		actions: {
			add(this: DbService, ctx) {
				return this.createEntity(ctx, { text: ctx.params.text });
			},
		},
	} as ServiceSchema;
}

describeWithServers(["mongo"], "db mixin on MongoDB", () => {
	it("gives every service in one process a database of its own", async () => {
		const prefix = uniqueName("iso");
		const app = await startApp([noteService("alpha"), noteService("beta")], { MONGO_URI: `${serverUrls.mongo}/${prefix}` });
		try {
			await app.broker.call("alpha.add", { text: "a" });
			await app.broker.call("beta.add", { text: "b1" });
			await app.broker.call("beta.add", { text: "b2" });
		} finally {
			await app.stop();
		}
		const count = async (db: string, collection: string) => {
			const conn = await mongoose.createConnection(`${serverUrls.mongo}/${db}`).asPromise();
			try {
				return await conn.db!.collection(collection).countDocuments();
			} finally {
				await conn.close();
			}
		};
		expect(await count(`${prefix}_alpha`, "alphas")).toBe(1);
		expect(await count(`${prefix}_beta`, "betas")).toBe(2);
		expect(await count(`${prefix}_alpha`, "betas")).toBe(0);
	});

	it("seeds once when two nodes start on the same empty database together", async () => {
		const env = { MONGO_URI: `${serverUrls.mongo}/${uniqueName("seed")}` };
		const [a, b] = await Promise.all([startApp([ProductsService], env), startApp([ProductsService], env)]);
		try {
			const page = await a.broker.call<Page<Product>, object>("products.list", { pageSize: 1 });
			expect(page.total).toBe(60);
		} finally {
			await Promise.all([a.stop(), b.stop()]);
		}
	});
});

describe("db mixin start-up", () => {
	it("gives each service its database inside a replica set's URI, the seed list and the driver's options kept", () => {
		const replicaSet =
			"mongodb://mongo-0.mongo:27017,mongo-1.mongo:27017,mongo-2.mongo:27017/shop?replicaSet=rs0&retryWrites=true&w=majority&readPreference=primary";
		const orders = serviceDatabaseUri(replicaSet, "orders");
		expect(orders).toBe(
			"mongodb://mongo-0.mongo:27017,mongo-1.mongo:27017,mongo-2.mongo:27017/shop_orders?replicaSet=rs0&retryWrites=true&w=majority&readPreference=primary",
		);
		// The driver (what mongoose connects with) reads them as a replica set with majority writes.
		const { options } = new mongoose.mongo.MongoClient(orders);
		expect(options).toMatchObject({ replicaSet: "rs0", retryWrites: true, dbName: "shop_orders", hosts: expect.arrayContaining([expect.anything()]) });
		expect(options.hosts).toHaveLength(3);
		expect(options.writeConcern?.w).toBe("majority");
		expect(options.readPreference.mode).toBe("primary");
		expect(serviceDatabaseUri("mongodb://shop:s3cret@127.0.0.1:27017", "carts")).toBe("mongodb://shop:s3cret@127.0.0.1:27017/shop_carts");
		expect(serviceDatabaseUri("mongodb+srv://db.example.com/store?w=majority", "carts")).toBe("mongodb+srv://db.example.com/store_carts?w=majority");
	});

	it("fails start-up, instead of retrying forever, when MongoDB is unreachable, naming the URI without its password", async () => {
		const startup = startApp([ProductsService], {
			MONGO_URI: "mongodb://shop:s3cret@127.0.0.1:1/shop",
			DB_CONNECT_TIMEOUT_MS: "1500",
		});
		await expect(startup).rejects.toThrow(/Cannot connect to MongoDB at mongodb:\/\/shop:\*\*\*@127\.0\.0\.1:1\/shop_products/);
		await expect(startup).rejects.not.toThrow(/s3cret/);
	}, 15_000);

	it("keeps NeDB data in files under DATA_DIR outside tests, so it survives a restart", async () => {
		const dataDir = mkdtempSync(path.join(os.tmpdir(), "shop-data-"));
		const env = { NODE_ENV: "development", DATA_DIR: dataDir, METRICS_PORT: "off", MONGO_URI: undefined };
		try {
			const first = await startApp([noteService("notes")], env);
			const note = await first.broker.call<{ id: string }, object>("notes.add", { text: "kept" });
			await first.stop();
			const second = await startApp(
				[
					{
						...noteService("notes"),
						actions: {
							get(this: DbService, ctx) {
								return this.findEntity(ctx, ctx.params.id);
							},
						},
					} as ServiceSchema,
				],
				env,
			);
			await expect(second.broker.call("notes.get", { id: note.id })).resolves.toMatchObject({ text: "kept" });
			await second.stop();
		} finally {
			rmSync(dataDir, { recursive: true, force: true });
		}
	});
});
