// The real servers a benchmark runs against, started through the same script
// developers use (scripts/infra.sh): the env that points app nodes at them,
// and their pids for the CPU accounting.
import { execFileSync } from "node:child_process";
import mongoose from "mongoose";
import { connect } from "nats";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.join(__dirname, "..");
const SCRIPT = path.join(ROOT, "scripts/infra.sh");

export interface Infra {
	env: { TRANSPORTER: string; CACHER: string; MONGO_URI: string };
	/** Servers the script started; one it found already running has no pid file, so no entry. */
	pids: Record<string, number>;
}

export function startInfra(): Infra {
	execFileSync("bash", [SCRIPT, "up"], { stdio: ["ignore", "ignore", "inherit"] });
	const env = Object.fromEntries(
		execFileSync("bash", [SCRIPT, "env"], { encoding: "utf8" })
			.split("\n")
			.filter(line => line.startsWith("export "))
			.map(line => line.slice(7).split("=", 2)),
	) as Infra["env"];
	const run = path.join(process.env.INFRA_DIR ?? path.join(ROOT, ".infra"), "run");
	const pidFiles = { "nats-server": "nats", redis: "redis", store: "mongo" };
	const pids = Object.fromEntries(
		Object.entries(pidFiles)
			.map(([label, name]) => [label, path.join(run, `${name}.pid`)] as const)
			.filter(([, file]) => existsSync(file))
			.map(([label, file]) => [label, Number(readFileSync(file, "utf8").trim())]),
	);
	return { env, pids };
}

/**
 * Drops the databases whose names start with `prefix` (a run's namespace):
 * the store keeps every database it ever had in one file, heap and set of
 * indexes, so runs left behind would slow the next ones down.
 */
export async function dropDatabases(mongoUri: string, prefix: string): Promise<void> {
	const client = await mongoose.mongo.MongoClient.connect(mongoUri);
	try {
		const { databases } = await client.db().admin().listDatabases({ nameOnly: true });
		for (const { name } of databases.filter(db => db.name.startsWith(prefix))) await client.db(name).dropDatabase();
	} finally {
		await client.close();
	}
}

/** Deletes the JetStream streams of a run's namespace (the facts' channels are `<namespace>_<channel>`). */
export async function deleteStreams(natsUrl: string, namespace: string): Promise<void> {
	const nc = await connect({ servers: natsUrl });
	try {
		const jsm = await nc.jetstreamManager();
		const names: string[] = [];
		for await (const stream of jsm.streams.list()) if (stream.config.name.startsWith(`${namespace}_`)) names.push(stream.config.name);
		for (const name of names) await jsm.streams.delete(name);
	} finally {
		await nc.close();
	}
}
