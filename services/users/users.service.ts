// services/users/users.service.ts — user profiles and roles. Owns the password hash,
// which never leaves this service: `authenticate` checks a password here.
import { Errors, type Context } from "moleculer";
import { DbMixin, type DbService, type DbServiceSchema } from "../../mixins/db.mixin";
import { Authorized, currentUser, type ClientMeta } from "../../mixins/auth.mixin";
import { fact, Outbox, outboxFields, type OutboxService } from "../../mixins/outbox.mixin";
import { adminCredentials, readEnv } from "../../lib/platform/env";
import { emailRule, nameRule, normalizeEmail, passwordRule } from "../../lib/auth/identity";
import { pageParams, type PageParams } from "../../lib/rules/paging";
import { isDuplicateKey } from "../../lib/platform/db-errors";
import { hashPassword, UNKNOWN_ACCOUNT_HASH, verifyPassword } from "./password";
import { randomUUID } from "node:crypto";
import { Channels, type Page, type Role, type User, type UserRegistered } from "../../lib/contract/contract";
import { idRule } from "../../lib/rules/id-rule";

interface NewUser {
	email: string;
	password: string;
	name: string;
	roles?: Role[];
}

function invalidCredentials(): Errors.MoleculerClientError {
	const err = new Errors.MoleculerClientError("Invalid email or password", 401, "INVALID_CREDENTIALS");
	err.name = "UnAuthorizedError";
	return err;
}

/** The ERROR an operator sees when ADMIN_EMAIL names a customer's account. */
function adminEmailTaken(email: string): string {
	return (
		`ADMIN_EMAIL ${email} belongs to an existing account that is not an admin; it was NOT promoted. ` +
		"There is no admin until ADMIN_EMAIL names a new address (or that account is removed)."
	);
}

interface UsersService extends OutboxService {
	createUser(ctx: Context | undefined, user: NewUser): Promise<User>;
	ensureAdmin(): Promise<void>;
}

const UsersService: DbServiceSchema<UsersService> = {
	name: "users",
	mixins: [
		DbMixin({
			fields: {
				email: { type: String, required: true },
				name: { type: String, required: true },
				roles: { type: [String], required: true },
				passwordHash: { type: String, required: true },
				...outboxFields,
			},
			unique: ["email"],
		}),
		Authorized,
		Outbox,
	],

	settings: {
		fields: ["id", "email", "name", "roles", "createdAt", "updatedAt"],
	},

	actions: {
		me: {
			access: "user",
			handler(this: DbService, ctx: Context<unknown, ClientMeta>): Promise<User> {
				return this.findEntity(ctx, currentUser(ctx).id);
			},
		},

		updateMe: {
			access: "user",
			params: { name: { ...nameRule, optional: true }, $$strict: "remove" },
			handler(this: DbService, ctx: Context<{ name?: string }, ClientMeta>): Promise<User> {
				if (ctx.params.name === undefined) {
					throw new Errors.ValidationError("Nothing to update", "VALIDATION_ERROR", [
						{ type: "required", field: "name", message: "The 'name' field is required." },
					]);
				}
				return this.updateEntity(ctx, currentUser(ctx).id, { name: ctx.params.name });
			},
		},

		list: {
			access: "admin",
			params: { ...pageParams, $$strict: "remove" },
			handler(this: DbService, ctx: Context<PageParams>): Promise<Page<User>> {
				return this.findPage(ctx, { query: {}, sort: ["createdAt", "_id"], ...ctx.params });
			},
		},

		// --- internal: called by the auth service, never aliased ---

		create: {
			visibility: "public",
			retryPolicy: { enabled: false },
			params: { email: emailRule, password: passwordRule, name: nameRule, $$strict: "remove" },
			handler(this: UsersService, ctx: Context<NewUser>): Promise<User> {
				return this.createUser(ctx, { ...ctx.params, roles: ["customer"] });
			},
		},

		authenticate: {
			visibility: "public",
			params: { email: emailRule, password: { type: "string", max: 1024 } },
			async handler(this: DbService, ctx: Context<{ email: string; password: string }>): Promise<User> {
				const doc = (await this.adapter.findOne({ email: ctx.params.email })) as { passwordHash?: string } | null;
				// Unknown accounts pay for a hash too, so timing does not reveal which emails exist.
				const matches = await verifyPassword(ctx.params.password, doc?.passwordHash ?? UNKNOWN_ACCOUNT_HASH);
				if (!doc || !matches) throw invalidCredentials();
				return this.transformDocuments(ctx, {}, doc);
			},
		},

		get: {
			visibility: "public",
			params: { id: idRule },
			cache: { keys: ["id"], ttl: 30 },
			handler(this: DbService, ctx: Context<{ id: string }>): Promise<User> {
				return this.findEntity(ctx, ctx.params.id);
			},
		},
	},

	methods: {
		async createUser(this: UsersService, ctx: Context | undefined, { email, password, name, roles = ["customer"] }: NewUser): Promise<User> {
			try {
				const normalized = normalizeEmail(email);
				const id = randomUUID();
				// The welcome fact is written with the user, so it cannot be lost.
				const registered = fact(Channels.USER_REGISTERED, { userId: id, email: normalized, name } satisfies Omit<UserRegistered, "factId">);
				const user = await this.createEntity<User>(ctx, {
					_id: id,
					email: normalized,
					name,
					roles,
					passwordHash: await hashPassword(password),
					outbox: [registered],
					outboxPending: true,
				});
				await this.publishFacts(user.id, [registered]);
				return user;
			} catch (err) {
				if (!isDuplicateKey(err)) throw err;
				throw new Errors.MoleculerClientError("An account with this email already exists", 409, "EMAIL_TAKEN", { field: "email" });
			}
		},

		/**
		 * Creates the admin from ADMIN_EMAIL/ADMIN_PASSWORD (or the development one)
		 * when no account has that email. An existing admin is left as it is. An
		 * existing non-admin account is never promoted: whoever registered the
		 * address first would own the admin role with their own password. It stays
		 * a customer and the node logs an ERROR; refusing to start instead would let
		 * that same registration take the identity service down.
		 */
		async ensureAdmin(this: UsersService): Promise<void> {
			const { email, password } = adminCredentials(readEnv());
			const normalized = normalizeEmail(email);
			const existing = (await this.adapter.findOne({ email: normalized })) as { roles: Role[] } | null;
			if (existing) {
				if (!existing.roles.includes("admin")) this.logger.error(adminEmailTaken(normalized));
				return;
			}
			try {
				await this.createUser(undefined, { email, password, name: "Administrator", roles: ["admin"] });
				this.logger.info(`Admin account ${normalized} created`);
			} catch (err) {
				if ((err as { type?: string }).type !== "EMAIL_TAKEN") throw err;
				// Another users node created it, or someone registered the address just now.
				const raced = (await this.adapter.findOne({ email: normalized })) as { roles: Role[] } | null;
				if (!raced?.roles.includes("admin")) this.logger.error(adminEmailTaken(normalized));
			}
		},
	},

	created(this: UsersService) {
		adminCredentials(readEnv()); // production without admin credentials refuses to start
	},

	async started(this: UsersService) {
		await this.ensureAdmin();
	},
};

export default UsersService;
