// What the services rely on from the MongoDB server, checked against the one
// the tests and the local cluster run (infra/mongo): atomic conditional
// updates, 11000 on unique conflicts, and queries through indexes that return
// what a scan would, while documents change.
import mongoose from "mongoose";
import { describeWithServers, serverUrls } from "../support/servers";
import { uniqueName } from "../support/app";

/** Documents with string ids and numeric and string fields, as the services store them. */
interface StoredDoc {
	_id: string;
	available?: number;
	key?: string;
	status?: string;
	n?: number;
}

describeWithServers(["mongo"], "the MongoDB server", () => {
	let client: mongoose.mongo.MongoClient;
	const collection = async (name: string): Promise<mongoose.mongo.Collection<StoredDoc>> => client.db(uniqueName("store")).collection(name);

	beforeAll(async () => {
		client = await mongoose.mongo.MongoClient.connect(serverUrls.mongo);
	});
	afterAll(() => client.close());

	it("lets exactly as many concurrent conditional decrements through as there are units", async () => {
		const stock = await collection("stock");
		await stock.insertOne({ _id: "p", available: 100 });
		const results = await Promise.all(
			Array.from({ length: 200 }, () => stock.updateOne({ _id: "p", available: { $gte: 1 } }, { $inc: { available: -1 } })),
		);
		expect(results.filter(r => r.modifiedCount === 1)).toHaveLength(100);
		expect(await stock.findOne({ _id: "p" })).toEqual({ _id: "p", available: 0 });
	});

	it("lets one of racing inserts of a unique key win and answers the others with 11000", async () => {
		const orders = await collection("orders");
		await orders.createIndex({ key: 1 }, { unique: true });
		const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => orders.insertOne({ _id: `o${i}`, key: "same" })));
		expect(results.filter(r => r.status === "fulfilled")).toHaveLength(1);
		expect(results.filter(r => r.status === "rejected").map(r => (r as PromiseRejectedResult).reason.code)).toEqual(Array(19).fill(11000));
	});

	it("answers queries on an indexed field as a scan would, through inserts, updates and deletes", async () => {
		const docs = await collection("docs");
		await docs.createIndex({ status: 1 });
		const expected = new Map<string, string>();
		for (let i = 0; i < 200; i++) expected.set(`d${i}`, ["PENDING", "CONFIRMED", "CANCELLED"][i % 3]);
		await docs.insertMany([...expected].map(([_id, status]) => ({ _id, status, n: Number(_id.slice(1)) })));
		for (let i = 0; i < 200; i += 7) {
			await docs.updateOne({ _id: `d${i}`, status: expected.get(`d${i}`) }, { $set: { status: "SHIPPED" } });
			expected.set(`d${i}`, "SHIPPED");
		}
		for (let i = 1; i < 200; i += 11) {
			await docs.deleteOne({ _id: `d${i}` });
			expected.delete(`d${i}`);
		}
		const ids = (statuses: string[]) =>
			[...expected]
				.filter(([, status]) => statuses.includes(status))
				.map(([id]) => id)
				.sort();
		const found = async (query: object) => (await docs.find(query).toArray()).map(doc => doc._id).sort();
		expect(await found({ status: "SHIPPED" })).toEqual(ids(["SHIPPED"]));
		expect(await found({ status: { $in: ["PENDING", "CANCELLED"] } })).toEqual(ids(["PENDING", "CANCELLED"]));
		expect(await found({ status: "CONFIRMED", n: { $lt: 100 } })).toEqual(ids(["CONFIRMED"]).filter(id => Number(id.slice(1)) < 100));
		expect(await found({ status: "NONE" })).toEqual([]);
	});
});
