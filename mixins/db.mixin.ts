// Database access for a service that owns one collection.
//
// The adapter is chosen from the environment when the service is created:
// MongoDB (a database of the service's own) when MONGO_URI is set, otherwise
// NeDB in memory under test and in files under DATA_DIR. Services use the
// methods below, never moleculer-db's generic actions, so every action a
// service exposes is declared, validated and authorised in its own file.
import { randomUUID } from "node:crypto";
import path from "node:path";
import MoleculerDb, { MemoryAdapter } from "moleculer-db";
import { ServiceMemoryAdapter } from "../lib/platform/service-memory-adapter";
import mongoose from "mongoose";
import { Errors, type Context, type Service, type ServiceSchema, type ServiceSettingSchema } from "moleculer";
import { readEnv } from "../lib/platform/env";
import { ServiceMongoAdapter, databaseUnavailable, serviceDatabaseUri } from "../lib/platform/service-mongo-adapter";
import type { Page } from "../lib/contract/contract";
import { isDuplicateKey } from "../lib/platform/db-errors";
import { cacheCleanEvent } from "../lib/platform/cache-clean";

type Doc = Record<string, unknown>;

export interface DbMixinOptions {
	/** Field definitions of the entity besides id and timestamps (mongoose syntax). */
	fields: mongoose.SchemaDefinition;
	/** Fields whose values must be unique; a duplicate is a 409. */
	unique?: string[];
	/** Demo data inserted when the collection is empty (never in production). */
	seed?: () => Doc[];
}

export interface PageRequest {
	query: Doc;
	sort: string[];
	page: number;
	pageSize: number;
}

/** A service schema whose handlers see the mixin's methods on `this`. */
export type DbServiceSchema<TThis extends DbService = DbService> = ServiceSchema<ServiceSettingSchema & Record<string, unknown>, object, object, TThis>;

/** The methods the mixin gives a service; use as `this: DbService`. */
export interface DbService extends Service {
	adapter: {
		find(filters: { query?: Doc; sort?: string[]; offset?: number; limit?: number }): Promise<unknown[]>;
		findById(id: string): Promise<unknown>;
		findOne(query: Doc): Promise<unknown>;
		count(filters?: { query?: Doc }): Promise<number>;
		insert(entity: Doc): Promise<unknown>;
		updateById(id: string, update: Doc): Promise<unknown>;
		/** Returns how many entities matched and changed: an atomic conditional update. */
		updateMany(query: Doc, update: Doc): Promise<number>;
		/** An atomic conditional update of one entity that returns it as it became (null: none matched). */
		findOneAndUpdate(query: Doc, update: Doc): Promise<Doc | null>;
		removeById(id: string): Promise<unknown>;
		entityToObject(doc: unknown): Promise<Doc> | Doc;
		db?: { ensureIndex(options: { fieldName: string; unique: boolean }): Promise<void> };
	};
	transformDocuments<T>(ctx: Context | undefined, params: Doc, docs: unknown): Promise<T>;
	entityChanged(type: "created" | "updated" | "removed", json: unknown, ctx: Context | undefined): Promise<void>;
	findPage<T>(ctx: Context, request: PageRequest): Promise<Page<T>>;
	findEntity<T>(ctx: Context, id: string): Promise<T>;
	createEntity<T>(ctx: Context | undefined, fields: Doc): Promise<T>;
	updateEntity<T>(ctx: Context, id: string, changes: Doc): Promise<T>;
	removeEntity<T>(ctx: Context, id: string): Promise<T>;
	databaseReachable(timeoutMs: number): Promise<boolean>;
	connect(): Promise<void>;
	clearCache(): Promise<void>;
}

const CONNECTION_ERRORS = new Set([
	"MongoServerSelectionError",
	"MongooseServerSelectionError",
	"MongoNetworkError",
	"MongoNetworkTimeoutError",
	"MongoNotConnectedError",
	"MongoTopologyClosedError",
	"PoolClearedError",
]);

/** Driver errors become errors a client can act on; everything else passes through. */
function translateDatabaseError(err: unknown, service: string, unique: string[]): unknown {
	if (isDuplicateKey(err)) {
		return new Errors.MoleculerClientError(`A ${service} entity with the same ${unique.join(" or ")} already exists`, 409, "CONFLICT", { fields: unique });
	}
	const name = (err as Error)?.name;
	if (CONNECTION_ERRORS.has(name) || /buffering timed out|connection .* closed/i.test((err as Error)?.message ?? "")) {
		return databaseUnavailable(`The ${service} database is unavailable`);
	}
	return err;
}

function createAdapter(service: string, options: DbMixinOptions): unknown {
	const env = readEnv();
	if (env.mongoUri) {
		const schema = new mongoose.Schema(
			{ _id: { type: String, required: true }, ...options.fields, createdAt: String, updatedAt: String },
			{ versionKey: false, strict: true },
		);
		for (const field of options.unique ?? []) schema.index({ [field]: 1 }, { unique: true });
		return new ServiceMongoAdapter(serviceDatabaseUri(env.mongoUri, service), service, schema, env.dbConnectTimeoutMs);
	}
	if (env.nodeEnv === "test") return new ServiceMemoryAdapter();
	return new ServiceMemoryAdapter({ filename: path.join(env.dataDir, `${service}.db`) });
}

// moleculer-db's own started() retries a failed connection forever and so
// hides the cause; this mixin connects once, with a deadline, in its own.
// eslint-disable-next-line @typescript-eslint/no-unused-vars
const { started: _retryForever, ...dbService } = MoleculerDb as unknown as ServiceSchema;

export function DbMixin(options: DbMixinOptions): Partial<ServiceSchema> {
	const unique = options.unique ?? [];
	const schema: DbServiceSchema & { merged(schema: ServiceSchema): void; afterConnected(this: DbService): Promise<void> } = {
		name: "",
		mixins: [dbService as ServiceSchema],

		settings: { idField: "id" },

		// Each service declares its own actions; none of moleculer-db's generic
		// ones (whose `query` param would let a client send raw filters).
		actions: { find: false, count: false, list: false, create: false, insert: false, get: false, update: false, remove: false } as never,

		merged(schema: ServiceSchema) {
			(schema as ServiceSchema & { adapter: unknown }).adapter = createAdapter(schema.name, options);
			// moleculer-db broadcasts this on every change; each node clears its
			// own cache (a no-op repeat with the shared Redis cacher).
			schema.events = {
				...schema.events,
				[cacheCleanEvent(schema.name)]: {
					handler(this: Service) {
						return this.broker.cacher?.clean(`${this.fullName}.**`);
					},
				},
			};
		},

		hooks: {
			error: {
				"*"(this: Service, _ctx: Context, err: Error) {
					throw translateDatabaseError(err, this.name, unique);
				},
			},
		},

		async started(this: DbService) {
			await this.connect();
		},

		async afterConnected(this: DbService) {
			if (this.adapter instanceof MemoryAdapter) {
				// NeDB gets the indexes MongoDB gets from the schema.
				for (const fieldName of unique) await this.adapter.db!.ensureIndex({ fieldName, unique: true });
				for (const fieldName of indexedFields(options.fields)) await this.adapter.db!.ensureIndex({ fieldName, unique: false });
			}
			if (options.seed && readEnv().nodeEnv !== "production" && (await this.adapter.count()) === 0) {
				await seed(this, options.seed());
			}
		},

		methods: {
			/**
			 * After a change: this node's cache first, then the event that tells every
			 * other node (moleculer-db does it the other way round). A gateway that
			 * hears it and asks again must not get the entry being removed, and keep it.
			 */
			async clearCache(this: DbService): Promise<void> {
				await this.broker.cacher?.clean(`${this.fullName}.**`);
				this.broker.broadcast(cacheCleanEvent(this.fullName));
			},

			async findPage<T>(this: DbService, ctx: Context, { query, sort, page, pageSize }: PageRequest): Promise<Page<T>> {
				const [docs, total] = await Promise.all([
					this.adapter.find({ query, sort, offset: (page - 1) * pageSize, limit: pageSize }),
					this.adapter.count({ query }),
				]);
				const rows = await this.transformDocuments<T[]>(ctx, {}, docs);
				return { rows, total, page, pageSize, totalPages: Math.ceil(total / pageSize) };
			},

			async findEntity<T>(this: DbService, ctx: Context, id: string): Promise<T> {
				const doc = await this.adapter.findById(id);
				if (!doc) throw new Errors.MoleculerClientError(`${this.name} entity not found`, 404, "NOT_FOUND", { id });
				return this.transformDocuments<T>(ctx, {}, doc);
			},

			async createEntity<T>(this: DbService, ctx: Context | undefined, fields: Doc): Promise<T> {
				const now = new Date().toISOString();
				const doc = await this.adapter.insert({ _id: randomUUID(), ...fields, createdAt: now, updatedAt: now });
				const json = await this.transformDocuments<T>(ctx, {}, doc);
				await this.entityChanged("created", json, ctx);
				return json;
			},

			async updateEntity<T>(this: DbService, ctx: Context, id: string, changes: Doc): Promise<T> {
				const doc = await this.adapter.updateById(id, { $set: { ...changes, updatedAt: new Date().toISOString() } });
				if (!doc) throw new Errors.MoleculerClientError(`${this.name} entity not found`, 404, "NOT_FOUND", { id });
				const json = await this.transformDocuments<T>(ctx, {}, doc);
				await this.entityChanged("updated", json, ctx);
				return json;
			},

			async removeEntity<T>(this: DbService, ctx: Context, id: string): Promise<T> {
				const json = await this.findEntity<T>(ctx, id);
				await this.adapter.removeById(id);
				await this.entityChanged("removed", json, ctx);
				return json;
			},

			async databaseReachable(this: DbService, timeoutMs: number): Promise<boolean> {
				if (this.adapter instanceof ServiceMongoAdapter) return this.adapter.ping(timeoutMs);
				return true; // NeDB lives in this process
			},
		},
	};
	return schema as unknown as Partial<ServiceSchema>;
}

/**
 * An internal action that pages through every entity matching `query` in a
 * stable order, as `toPublic` shapes them: what the consistency check reads.
 */
export function exportAction<T>(query: Doc, toPublic: (doc: never) => T) {
	return {
		visibility: "public" as const,
		params: {
			page: { type: "number", integer: true, min: 1, default: 1, convert: true },
			pageSize: { type: "number", integer: true, min: 1, max: 500, default: 100, convert: true },
		},
		async handler(this: DbService, ctx: Context<{ page: number; pageSize: number }>): Promise<T[]> {
			const { page, pageSize } = ctx.params;
			const docs = await this.adapter.find({ query, sort: ["_id"], offset: (page - 1) * pageSize, limit: pageSize });
			// Plain objects: mongoose documents do not spread.
			const plain = await Promise.all(docs.map(doc => this.adapter.entityToObject(doc)));
			return plain.map(doc => toPublic(doc as never));
		},
	};
}

/** Fields declared with `index: true` (mongoose syntax). */
function indexedFields(fields: mongoose.SchemaDefinition): string[] {
	return Object.entries(fields)
		.filter(([, definition]) => (definition as { index?: boolean } | undefined)?.index === true)
		.map(([name]) => name);
}

/** Inserts the demo rows; a row another node inserted first (same unique key) is skipped. */
async function seed(service: DbService, rows: Doc[]): Promise<void> {
	let inserted = 0;
	for (const row of rows) {
		try {
			await service.createEntity(undefined, row);
			inserted++;
		} catch (err) {
			if (!isDuplicateKey(err)) throw err;
		}
	}
	service.logger.info(`Seeded ${inserted} ${service.name} entities`);
}
