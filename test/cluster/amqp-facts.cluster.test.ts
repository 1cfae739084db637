// Facts on RabbitMQ as moleculer.config.ts sets up @moleculer/channels' AMQP
// adapter, against the real server: what the outbox and the consumers rely on
// (docs/architecture.md, "Facts and channels"). Each case has a channel of its
// own in a namespace of its own.
import { spawn } from "node:child_process";
import path from "node:path";
import amqplib, { type Channel, type ChannelModel } from "amqplib";
import type { ServiceBroker, ServiceSchema } from "moleculer";
import { sendToChannel } from "../../mixins/outbox.mixin";
import { uniqueName } from "../support/app";
import { clientNode, waitFor } from "../support/cluster";
import { describeWithServers, serverUrls } from "../support/servers";
import { eventually } from "../support/wait";

const ROOT = path.join(__dirname, "../..");

describeWithServers(["rabbitmq"], "facts on RabbitMQ", () => {
	const namespace = uniqueName("facts");
	const env = { TRANSPORTER: serverUrls.rabbitmq, NAMESPACE: namespace };
	const brokers: ServiceBroker[] = [];
	let publisher: ServiceBroker;
	let connection: ChannelModel;
	let channel: Channel;

	/** A node whose one service consumes `name` as group `group`, handing each payload to `handler`. */
	const consumer = async (name: string, group: string, handler: (payload: unknown) => Promise<void>) => {
		const schema: ServiceSchema = { name: group, channels: { [name]: { group, handler } } } as ServiceSchema;
		const broker = await clientNode(env, `consumer-${uniqueName(group)}`, [schema]);
		brokers.push(broker);
		return broker;
	};

	beforeAll(async () => {
		publisher = await clientNode(env, "publisher");
		brokers.push(publisher);
		connection = await amqplib.connect(serverUrls.rabbitmq);
		channel = await connection.createChannel();
	});
	afterAll(async () => {
		await Promise.all(brokers.map(broker => broker.stop()));
		await connection?.close();
	});

	it("keeps publishing after a fact went out before any consumer existed; that fact reaches no one", async () => {
		await sendToChannel(publisher, "probe.early", { n: 1 });
		const received: unknown[] = [];
		await consumer("probe.early", "early", async payload => void received.push(payload));
		await sendToChannel(publisher, "probe.early", { n: 2 });
		expect(
			await eventually(
				async () => received,
				list => list.length > 0,
				5000,
			),
		).toEqual([{ n: 2 }]);
	});

	it("fails the publish of a fact RabbitMQ refuses, so its outbox keeps it", async () => {
		// A consumer queue that is always full and refuses what it is sent.
		const exchange = `${namespace}.probe.refused`;
		await channel.assertExchange(exchange, "fanout", { durable: true });
		const { queue } = await channel.assertQueue("", { exclusive: true, arguments: { "x-max-length": 0, "x-overflow": "reject-publish" } });
		await channel.bindQueue(queue, exchange, "");
		await expect(sendToChannel(publisher, "probe.refused", { n: 1 })).rejects.toThrow(/nack/);
		await expect(sendToChannel(publisher, "probe.early", { n: 3 })).resolves.toBeUndefined();
	});

	it("tries a fact whose handler keeps failing five times, then moves it to DEAD_LETTER naming its channel and group", async () => {
		let attempts = 0;
		await consumer("probe.failing", "failing", async () => {
			attempts++;
			throw new Error("cannot handle this fact");
		});
		await sendToChannel(publisher, "probe.failing", { n: 1 });
		const dead = await eventually(
			() => channel.get(`${namespace}.DEAD_LETTER`, { noAck: true }),
			message => message !== false,
			10_000,
		);
		expect(dead && JSON.parse(dead.content.toString())).toEqual({ n: 1 });
		expect(dead && dead.properties.headers).toMatchObject({ "x-original-channel": `${namespace}.probe.failing`, "x-original-group": "failing" });
		expect(attempts).toBe(5);
	});

	it("keeps taking facts when its connection dropped while a handler ran and the handler ended after the reconnect; that fact comes again", async () => {
		// As when RabbitMQ restarts under a fact being handled.
		let release = () => {};
		const released = new Promise<void>(resolve => (release = resolve));
		const received: unknown[] = [];
		const node = await consumer("probe.dropped", "dropped", async payload => {
			received.push(payload);
			if (received.length === 1) await released;
		});
		await sendToChannel(publisher, "probe.dropped", { n: 1 });
		await eventually(
			async () => received.length,
			count => count === 1,
			5000,
		);
		// The adapter reconnects 2 s later; the fact, never acknowledged, comes again on the new connection.
		await (node as unknown as { channelAdapter: { connection: ChannelModel } }).channelAdapter.connection.close();
		await eventually(
			async () => received.length,
			count => count === 2,
			10_000,
		);
		// The first handler ends on the new connection's watch, and a later fact still arrives.
		release();
		await new Promise(resolve => setTimeout(resolve, 500));
		await sendToChannel(publisher, "probe.dropped", { n: 2 });
		expect(
			await eventually(
				async () => received,
				list => list.length === 3,
				5000,
			),
		).toEqual([{ n: 1 }, { n: 1 }, { n: 2 }]);
	});

	it("hands a fact its consumer took and never acknowledged to another consumer of the group when that node is SIGKILLed", async () => {
		// A node of its own, as the cluster's are (moleculer.config.ts, built): its handler takes the fact and never finishes.
		const script = `
			const { ServiceBroker } = require("moleculer");
			const { brokerConfig } = require("./dist/moleculer.config.js");
			const broker = new ServiceBroker({ ...brokerConfig(), logger: false });
			broker.createService({ name: "stuck", channels: { "probe.stuck": { group: "stuck", handler: () => { console.log("took"); return new Promise(() => {}); } } } });
			broker.start().then(() => console.log("ready"));`;
		const stuck = spawn(process.execPath, ["-e", script], {
			cwd: ROOT,
			env: { ...process.env, ...env, NODE_ENV: "test" },
			stdio: ["ignore", "pipe", "inherit"],
		});
		const exited = new Promise(resolve => stuck.once("exit", resolve));
		let output = "";
		stuck.stdout!.on("data", chunk => (output += chunk));
		try {
			await waitFor(
				async () => output.includes("ready"),
				30_000,
				() => output,
			);
			await sendToChannel(publisher, "probe.stuck", { n: 1 });
			await waitFor(
				async () => output.includes("took"),
				10_000,
				() => output,
			);

			const received: unknown[] = [];
			await consumer("probe.stuck", "stuck", async payload => void received.push(payload));
			stuck.kill("SIGKILL");
			expect(
				await eventually(
					async () => received,
					list => list.length > 0,
					5000,
				),
			).toEqual([{ n: 1 }]);
		} finally {
			stuck.kill("SIGKILL");
			await exited;
		}
	});
});
