// moleculer-db-adapter-mongoose with one connection per service.
//
// The stock adapter connects through mongoose's global default connection, so
// two services in one process share the first one's database, and it retries
// forever when MongoDB is unreachable. This subclass opens a connection of its
// own to the service's database and gives up after a deadline with an error
// that names the (redacted) URI.
import mongoose from "mongoose";
import MongooseDbAdapter from "moleculer-db-adapter-mongoose";
import { Errors, type Service, type ServiceBroker } from "moleculer";
import { redactUrl } from "./env";

/** Per-operation wait for a reachable server: shorter than the request timeout, so a dead database answers 503, not 504. */
export const SERVER_SELECTION_TIMEOUT_MS = 4000;
const RETRY_DELAY_MS = 500;

/**
 * `mongodb://host:27017/shop?w=majority` + `products` -> `mongodb://host:27017/shop_products?w=majority`.
 * Not through `URL`: a replica set's seed list (`a:27017,b:27017`) is no valid URL host.
 * The options after `?` (replicaSet, w, readPreference, ...) are the driver's and pass unchanged.
 */
export function serviceDatabaseUri(baseUri: string, service: string): string {
	const [, servers, database, options = ""] = /^([a-z+]+:\/\/[^/?]*)\/?([^?]*)(\?.*)?$/i.exec(baseUri)!;
	return `${servers}/${database || "shop"}_${service}${options}`;
}

export function databaseUnavailable(message: string): Errors.MoleculerError {
	const err = new Errors.MoleculerError(message, 503, "DATABASE_UNAVAILABLE");
	err.name = "DatabaseUnavailableError";
	return err;
}

export class ServiceMongoAdapter extends MongooseDbAdapter<mongoose.Document> {
	/** Hears of every command the driver sends, when set before connecting (the bench counts them). */
	static commandListener?: (service: string, command: string) => void;

	declare conn: mongoose.Connection | undefined;

	constructor(
		uri: string,
		private readonly entityName: string,
		private readonly entitySchema: mongoose.Schema,
		private readonly connectTimeoutMs: number,
	) {
		super(uri, {
			serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
			// Fail fast while disconnected instead of queueing operations in memory.
			bufferCommands: false,
			// A field set to undefined is left out, as mongoose does, not stored as null.
			ignoreUndefined: true,
		});
	}

	init(broker: ServiceBroker, service: Service): void {
		this.broker = broker;
		this.service = service;
	}

	async connect(): Promise<void> {
		const deadline = Date.now() + this.connectTimeoutMs;
		let lastError: Error | undefined;
		while (Date.now() < deadline) {
			const conn = mongoose.createConnection(this.uri, {
				...this.opts,
				serverSelectionTimeoutMS: Math.max(100, Math.min(SERVER_SELECTION_TIMEOUT_MS, deadline - Date.now())),
				monitorCommands: ServiceMongoAdapter.commandListener != null,
			});
			// An 'error' event without a listener would crash the process.
			conn.on("error", err => this.service.logger.warn(`MongoDB error: ${err.message}`));
			try {
				await conn.asPromise();
				this.model = conn.model(this.entityName, this.entitySchema) as unknown as typeof this.model;
				await this.model.init(); // build unique indexes before anything is written
				this.conn = conn;
				this.db = conn.db!;
				const listener = ServiceMongoAdapter.commandListener;
				if (listener) conn.getClient().on("commandStarted", event => listener(this.entityName, event.commandName));
				conn.on("disconnected", () => this.service.logger.warn("MongoDB disconnected"));
				conn.on("reconnected", () => this.service.logger.info("MongoDB reconnected"));
				this.service.logger.info(`Connected to ${redactUrl(this.uri)}`);
				return;
			} catch (err) {
				lastError = err as Error;
				await conn.close(true).catch(() => undefined);
				await new Promise(resolve => setTimeout(resolve, RETRY_DELAY_MS));
			}
		}
		throw databaseUnavailable(
			`Cannot connect to MongoDB at ${redactUrl(this.uri)} within ${this.connectTimeoutMs} ms: ${lastError?.message ?? "timed out"}`,
		);
	}

	async disconnect(): Promise<void> {
		await this.conn?.close();
		this.conn = undefined;
	}

	// The hot reads and writes go to the driver's collection as written: the
	// services store documents in the schema's types already, and mongoose's
	// casting and hydration cost more CPU than the command itself. Reads give
	// plain objects. (Typed as the base class has them.)
	private get collection(): mongoose.mongo.Collection {
		return this.model.collection as unknown as mongoose.mongo.Collection;
	}

	/** A query on one `_id` matches at most one document: it goes as updateOne, and the server stops at the first match. */
	async updateMany(query: Record<string, unknown>, update: Record<string, unknown>): Promise<number> {
		const write = typeof query._id === "string" ? this.collection.updateOne(query, update) : this.collection.updateMany(query, update);
		return (await write).modifiedCount;
	}

	/** The one matching document after the update, or null when none matched: one command. */
	findOneAndUpdate(query: Record<string, unknown>, update: Record<string, unknown>): Promise<Record<string, unknown> | null> {
		return this.collection.findOneAndUpdate(query, update, { returnDocument: "after" });
	}

	findOne(query: Record<string, unknown>): Promise<mongoose.Document | null> {
		return this.collection.findOne(query) as never;
	}

	findById(id: unknown): Promise<mongoose.Document | null> {
		return this.collection.findOne({ _id: id as never }) as never;
	}

	find(filters: Parameters<MongooseDbAdapter<mongoose.Document>["find"]>[0]): Promise<mongoose.Document[]> {
		return this.createCursor(filters).lean().exec() as never;
	}

	entityToObject(entity: mongoose.Document): Promise<object> {
		if (entity instanceof mongoose.Document) return super.entityToObject(entity);
		return Promise.resolve({ ...(entity as object) });
	}

	/** A round trip to the server, bounded so readiness never hangs. */
	async ping(timeoutMs: number): Promise<boolean> {
		// Ask the server itself: mongoose's readyState lags a restarted server by a heartbeat.
		const db = this.conn?.db;
		if (!db) return false;
		const timeout = new Promise<boolean>(resolve => setTimeout(resolve, timeoutMs, false).unref());
		return Promise.race([
			db
				.admin()
				.ping()
				.then(
					() => true,
					() => false,
				),
			timeout,
		]);
	}
}
