// services/auth/auth.service.ts — sessions: register, login, refresh (rotating
// refresh tokens), logout, and resolveToken for the gateway. Owns the
// refresh-token store; users and passwords belong to the users service.
import { randomUUID, type KeyObject } from "node:crypto";
import { Errors, type Context } from "moleculer";
import type Redis from "ioredis";
import { DbMixin, type DbService, type DbServiceSchema } from "../../mixins/db.mixin";
import { Authorized, type ClientMeta } from "../../mixins/auth.mixin";
import { jwtSecret, readEnv, type Env } from "../../lib/platform/env";
import { emailRule, nameRule, passwordRule, refreshTokenRule } from "../../lib/auth/identity";
import { MemoryRateLimitStore, redisRateLimitStore, type RateLimitStore } from "../../lib/auth/rate-limit-store";
import { MemoryLoginFailures, RedisLoginFailures, type LoginFailureStore } from "./login-failures";
import { sideRedisClient } from "../../lib/platform/redis-client";
import { accessTokenKey, hashToken, invalidToken, newRefreshToken, signAccessToken, verifyAccessToken } from "../../lib/auth/tokens";
import { ErrorTypes, type AuthResult, type AuthUser, type User } from "../../lib/contract/contract";
import { idRule } from "../../lib/rules/id-rule";

interface RefreshTokenRecord {
	_id: string;
	tokenHash: string;
	familyId: string;
	userId: string;
	expiresAt: string;
	usedAt: string | null;
	revoked: boolean;
}

interface AuthService extends DbService {
	env: Env;
	secret: KeyObject;
	attempts: RateLimitStore;
	loginFailures: LoginFailureStore;
	attemptsRedis?: Redis;
	throttle(action: string, clientIp: string): Promise<void>;
	issueSession(user: User, familyId?: string): Promise<AuthResult>;
	revokeFamily(familyId: string): Promise<void>;
}

/** A deleted account ends its sessions; any other failure (an outage) stays a 5xx. */
function accountGone(err: { code?: number; type?: string }): never {
	if (err.code === 404 && err.type === "NOT_FOUND") throw invalidToken("The account no longer exists");
	throw err;
}

function tooManyAttempts(retryAfterSeconds: number): Errors.MoleculerClientError {
	return new Errors.MoleculerClientError("Too many attempts; try again later", 429, "TOO_MANY_ATTEMPTS", { retryAfter: retryAfterSeconds });
}

const AuthService: DbServiceSchema<AuthService> = {
	name: "auth",
	mixins: [
		DbMixin({
			fields: {
				tokenHash: { type: String, required: true },
				familyId: { type: String, required: true, index: true },
				userId: { type: String, required: true },
				expiresAt: { type: String, required: true },
				usedAt: { type: String, default: null },
				revoked: { type: Boolean, default: false },
			},
			unique: ["tokenHash"],
		}),
		Authorized,
	],

	actions: {
		register: {
			access: "public",
			retryPolicy: { enabled: false },
			params: { email: emailRule, password: passwordRule, name: nameRule, $$strict: "remove" },
			async handler(this: AuthService, ctx: Context<{ email: string; password: string; name: string }, ClientMeta>): Promise<AuthResult> {
				await this.throttle("register", ctx.meta.clientIp ?? "internal");
				// users.create records the user.registered fact with the user itself.
				const user = await ctx.call<User, object>("users.create", ctx.params);
				return this.issueSession(user);
			},
		},

		login: {
			access: "public",
			params: { email: emailRule, password: { type: "string", min: 1, max: 1024 }, $$strict: "remove" },
			async handler(this: AuthService, ctx: Context<{ email: string; password: string }, ClientMeta>): Promise<AuthResult> {
				const clientIp = ctx.meta.clientIp ?? "internal";
				await this.throttle("login", clientIp);
				// Failures count per account *and* address: a guesser locks only their own pair.
				const pair = JSON.stringify([ctx.params.email, clientIp]);
				const lockedMs = await this.loginFailures.lockedFor(pair);
				if (lockedMs > 0) throw tooManyAttempts(Math.ceil(lockedMs / 1000));
				const user = await ctx.call<User, object>("users.authenticate", ctx.params).catch(async (err: { type?: string }) => {
					if (err.type === ErrorTypes.INVALID_CREDENTIALS) await this.loginFailures.failed(pair);
					throw err;
				});
				await this.loginFailures.succeeded(pair);
				return this.issueSession(user);
			},
		},

		refresh: {
			access: "public",
			retryPolicy: { enabled: false },
			params: { refreshToken: refreshTokenRule, $$strict: "remove" },
			async handler(this: AuthService, ctx: Context<{ refreshToken: string }>): Promise<AuthResult> {
				const tokenHash = hashToken(ctx.params.refreshToken);
				const record = (await this.adapter.findOne({ tokenHash })) as RefreshTokenRecord | null;
				if (!record || record.revoked || record.expiresAt < new Date().toISOString()) throw invalidToken("The refresh token is invalid or expired");
				// The user first: an outage here must not spend the token (a retry would look like theft).
				const user = await ctx.call<User, object>("users.get", { id: record.userId }).catch(accountGone);
				// Claim the token atomically: of two uses, exactly one wins.
				const claimed = await this.adapter.updateMany({ tokenHash, usedAt: null, revoked: false }, { $set: { usedAt: new Date().toISOString() } });
				if (claimed !== 1) {
					// A rotated token came back: it was stolen or leaked. End the whole session.
					await this.revokeFamily(record.familyId);
					throw invalidToken("The refresh token was already used; the session has been ended");
				}
				return this.issueSession(user, record.familyId);
			},
		},

		logout: {
			access: "public",
			params: { refreshToken: refreshTokenRule, $$strict: "remove" },
			async handler(this: AuthService, ctx: Context<{ refreshToken: string }>): Promise<void> {
				const record = (await this.adapter.findOne({ tokenHash: hashToken(ctx.params.refreshToken) })) as RefreshTokenRecord | null;
				// The same answer whether or not the token existed.
				if (record) await this.revokeFamily(record.familyId);
			},
		},

		// --- internal: the gateway's authentication ---

		resolveToken: {
			visibility: "public",
			params: { token: { type: "string", min: 1, max: 4096 } },
			// Never cached: a token's signature and expiry are checked on every request.
			async handler(this: AuthService, ctx: Context<{ token: string }>): Promise<AuthUser> {
				const claims = verifyAccessToken(ctx.params.token, this.secret);
				return ctx.call<AuthUser, { sid: string; userId: string }>("auth.session", { sid: claims.sid, userId: claims.sub });
			},
		},

		/** The user of a live session: it exists and has not ended. */
		session: {
			visibility: "protected",
			params: { sid: idRule, userId: idRule },
			// Ending a session clears this cache at once, on every node; the TTL
			// bounds how long a role change or a missed clean can go unseen.
			cache: { keys: ["sid", "userId"], ttl: 30 },
			async handler(this: AuthService, ctx: Context<{ sid: string; userId: string }>): Promise<AuthUser> {
				const live = await this.adapter.count({ query: { familyId: ctx.params.sid, userId: ctx.params.userId, revoked: false } });
				if (live === 0) throw invalidToken("The session has ended");
				const user = await ctx.call<User, object>("users.get", { id: ctx.params.userId }).catch(accountGone);
				return { id: user.id, email: user.email, roles: user.roles };
			},
		},
	},

	methods: {
		/** Counts this attempt against the client's address; over AUTH_RATE_LIMIT in the window is a 429. */
		async throttle(this: AuthService, action: string, clientIp: string): Promise<void> {
			if ((await this.attempts.inc(`${action}:ip:${clientIp}`)) > this.env.authRateLimit) {
				throw tooManyAttempts(Math.ceil((this.attempts.resetTime - Date.now()) / 1000));
			}
		},

		async issueSession(this: AuthService, user: User, familyId: string = randomUUID()): Promise<AuthResult> {
			const { token, hash } = newRefreshToken();
			const now = Date.now();
			// Token records are written through the adapter: they are never returned
			// to anyone, and a new session must not flush the resolveToken cache.
			await this.adapter.insert({
				_id: randomUUID(),
				tokenHash: hash,
				familyId,
				userId: user.id,
				expiresAt: new Date(now + this.env.refreshTokenTtlS * 1000).toISOString(),
				usedAt: null,
				revoked: false,
				createdAt: new Date(now).toISOString(),
				updatedAt: new Date(now).toISOString(),
			});
			const accessToken = signAccessToken({ sub: user.id, email: user.email, roles: user.roles, sid: familyId }, this.secret, this.env.accessTokenTtlS);
			return { user, accessToken, refreshToken: token, expiresIn: this.env.accessTokenTtlS };
		},

		async revokeFamily(this: AuthService, familyId: string): Promise<void> {
			await this.adapter.updateMany({ familyId }, { $set: { revoked: true, updatedAt: new Date().toISOString() } });
			await this.clearCache(); // resolveToken answers on every node drop at once
		},
	},

	created(this: AuthService) {
		this.env = readEnv();
		this.secret = accessTokenKey(jwtSecret(this.env)); // production without a strong secret refuses to start
		if (this.env.cacher) {
			// Counted in Redis so attempts through any gateway or auth node add up
			// (on each node by itself while Redis is unreachable).
			this.attemptsRedis = sideRedisClient(this.env.cacher, "Auth attempts", this.logger);
			this.attempts = new (redisRateLimitStore(this.attemptsRedis, `${this.env.namespace}-auth-attempts`))(this.env.authRateWindowMs);
			this.loginFailures = new RedisLoginFailures(this.attemptsRedis, `${this.env.namespace}-login-failures`);
		} else {
			this.attempts = new MemoryRateLimitStore(this.env.authRateWindowMs);
			this.loginFailures = new MemoryLoginFailures();
		}
	},

	async stopped(this: AuthService) {
		await this.attemptsRedis?.quit().catch(() => undefined);
	},
};

export default AuthService;
