// The one place that reads process.env. Every knob has an embedded default so
// `npm start` runs with nothing set; a malformed value stops start-up with a
// message naming the variable instead of surfacing later as odd behaviour.

export type NodeEnv = "development" | "test" | "production";
export type TracingExporter = "Console" | "Zipkin" | "Jaeger" | "Event";

export interface Env {
	nodeEnv: NodeEnv;
	namespace: string;
	nodeID?: string;
	/** nats://, redis://, ... ; unset: every service in one broker, no transporter. */
	transporter?: string;
	/** redis://... ; unset: an in-process LRU cache. */
	cacher?: string;
	/** mongodb://... ; unset: NeDB (files under dataDir, or memory under test). */
	mongoUri?: string;
	serializer: string;
	port: number;
	/** Unset: none. Serves /health/live and /health/ready on any node type. */
	healthPort?: number;
	logLevel: string;
	/** Default 3030 (none under test); "off": no endpoint; 0: a random free port. */
	metricsPort?: number;
	tracingExporter?: TracingExporter;
	tracingUrl?: string;
	dataDir: string;
	requestTimeoutMs: number;
	dbConnectTimeoutMs: number;
	rateLimit: number;
	rateLimitWindowMs: number;
	trustedProxies: string[];
	bodyLimit: string;
	/** Unset outside production: the documented development secret. */
	jwtSecret?: string;
	accessTokenTtlS: number;
	refreshTokenTtlS: number;
	adminEmail?: string;
	adminPassword?: string;
	/** Login/register attempts per client address, and per account, per window. */
	authRateLimit: number;
	authRateWindowMs: number;
	/** HMAC key of the carrier's webhook; a documented value outside production. */
	shippingWebhookSecret?: string;
	/** How long a node may drive a checkout before another orders node takes it over. */
	orderLeaseMs: number;
}

/** Every variable the app reads; deploy files are checked against this list. */
export const ENV_NAMES = [
	"ACCESS_TOKEN_TTL_S",
	"ADMIN_EMAIL",
	"ADMIN_PASSWORD",
	"AUTH_RATE_LIMIT",
	"AUTH_RATE_WINDOW_MS",
	"BODY_LIMIT",
	"CACHER",
	"DATA_DIR",
	"DB_CONNECT_TIMEOUT_MS",
	"HEALTH_PORT",
	"JWT_SECRET",
	"LOGLEVEL",
	"METRICS_PORT",
	"MONGO_URI",
	"NAMESPACE",
	"NODEID",
	"NODE_ENV",
	"ORDER_LEASE_MS",
	"PORT",
	"RATE_LIMIT",
	"RATE_LIMIT_WINDOW_MS",
	"REFRESH_TOKEN_TTL_S",
	"REQUEST_TIMEOUT_MS",
	"SERIALIZER",
	"SHIPPING_WEBHOOK_SECRET",
	"TRACING_EXPORTER",
	"TRACING_URL",
	"TRANSPORTER",
	"TRUSTED_PROXIES",
] as const;
type EnvName = (typeof ENV_NAMES)[number];

type Source = Record<string, string | undefined>;

function text(source: Source, name: EnvName): string | undefined {
	const value = source[name]?.trim();
	return value ? value : undefined;
}

function integer(source: Source, name: EnvName, fallback: number, min = 0): number {
	const raw = text(source, name);
	if (raw == null) return fallback;
	const value = Number(raw);
	if (!Number.isInteger(value) || value < min) {
		throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
	}
	return value;
}

function oneOf<T extends string>(source: Source, name: EnvName, allowed: readonly T[], fallback?: T): T | undefined {
	const raw = text(source, name);
	if (raw == null) return fallback;
	const match = allowed.find(option => option.toLowerCase() === raw.toLowerCase());
	if (!match) throw new Error(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
	return match;
}

function url(source: Source, name: EnvName, schemes: readonly string[]): string | undefined {
	const raw = text(source, name);
	if (raw == null) return undefined;
	const scheme = raw.split("://")[0].toLowerCase();
	if (!raw.includes("://") || !schemes.includes(scheme)) {
		throw new Error(`${name} must be a URL with scheme ${schemes.join(" or ")}, got "${redactUrl(raw)}"`);
	}
	return raw;
}

/** Hides the password of a URL so it can go into logs and error messages. */
export function redactUrl(raw: string): string {
	return raw.replace(/(\/\/[^:/@]+):[^@/]*@/, "$1:***@");
}

export function readEnv(source: Source = process.env): Env {
	const nodeEnv = oneOf(source, "NODE_ENV", ["development", "test", "production"] as const, "development")!;
	const metricsPort = text(source, "METRICS_PORT");
	return {
		nodeEnv,
		namespace: text(source, "NAMESPACE") ?? "shop",
		nodeID: text(source, "NODEID"),
		transporter: text(source, "TRANSPORTER"),
		cacher: url(source, "CACHER", ["redis", "rediss"]),
		mongoUri: url(source, "MONGO_URI", ["mongodb", "mongodb+srv"]),
		serializer: text(source, "SERIALIZER") ?? "JSON",
		port: integer(source, "PORT", 3000),
		healthPort: text(source, "HEALTH_PORT") == null ? undefined : integer(source, "HEALTH_PORT", 0),
		logLevel: oneOf(source, "LOGLEVEL", ["fatal", "error", "warn", "info", "debug", "trace"] as const, "info")!,
		// Tests start many brokers in one process: no fixed port unless asked for.
		metricsPort: metricsPort === "off" || (metricsPort == null && nodeEnv === "test")
			? undefined
			: integer(source, "METRICS_PORT", 3030),
		tracingExporter: oneOf(source, "TRACING_EXPORTER", ["Console", "Zipkin", "Jaeger", "Event"] as const),
		tracingUrl: text(source, "TRACING_URL"),
		dataDir: text(source, "DATA_DIR") ?? "./data",
		requestTimeoutMs: integer(source, "REQUEST_TIMEOUT_MS", 10_000, 100),
		dbConnectTimeoutMs: integer(source, "DB_CONNECT_TIMEOUT_MS", 10_000, 100),
		rateLimit: integer(source, "RATE_LIMIT", 600, 1),
		rateLimitWindowMs: integer(source, "RATE_LIMIT_WINDOW_MS", 60_000, 1000),
		trustedProxies: (text(source, "TRUSTED_PROXIES") ?? "").split(",").map(s => s.trim()).filter(Boolean),
		bodyLimit: text(source, "BODY_LIMIT") ?? "100kb",
		jwtSecret: text(source, "JWT_SECRET"),
		accessTokenTtlS: integer(source, "ACCESS_TOKEN_TTL_S", 900, 10),
		refreshTokenTtlS: integer(source, "REFRESH_TOKEN_TTL_S", 30 * 24 * 3600, 60),
		adminEmail: text(source, "ADMIN_EMAIL"),
		adminPassword: source.ADMIN_PASSWORD || undefined,
		authRateLimit: integer(source, "AUTH_RATE_LIMIT", 10, 1),
		authRateWindowMs: integer(source, "AUTH_RATE_WINDOW_MS", 60_000, 1000),
		shippingWebhookSecret: text(source, "SHIPPING_WEBHOOK_SECRET"),
		orderLeaseMs: integer(source, "ORDER_LEASE_MS", 30_000, 1000),
	};
}

/** Signs development tokens only; production refuses to start without JWT_SECRET. */
export const DEVELOPMENT_JWT_SECRET = "development-only-secret-never-use-in-production";
/** The admin seeded outside production when ADMIN_EMAIL/ADMIN_PASSWORD are unset (README states it). */
export const DEVELOPMENT_ADMIN = { email: "admin@shop.local", password: "admin-password-123" } as const;

/** The secret that signs access tokens; a weak or missing one stops a production node. */
export function jwtSecret(env: Env): string {
	if (env.nodeEnv !== "production") return env.jwtSecret ?? DEVELOPMENT_JWT_SECRET;
	if (!env.jwtSecret || env.jwtSecret.length < 32 || env.jwtSecret === DEVELOPMENT_JWT_SECRET) {
		throw new Error("JWT_SECRET must be set to a random string of at least 32 characters in production");
	}
	return env.jwtSecret;
}

/** The admin account to ensure exists; production refuses to start without one. */
export function adminCredentials(env: Env): { email: string; password: string } {
	if (env.adminEmail && env.adminPassword) return { email: env.adminEmail, password: env.adminPassword };
	if (env.nodeEnv === "production") throw new Error("ADMIN_EMAIL and ADMIN_PASSWORD must be set in production");
	return DEVELOPMENT_ADMIN;
}

export const DEVELOPMENT_WEBHOOK_SECRET = "development-carrier-webhook-secret";

/** The carrier webhook's HMAC key; production refuses to start without one. */
export function shippingWebhookSecret(env: Env): string {
	if (env.shippingWebhookSecret) return env.shippingWebhookSecret;
	if (env.nodeEnv === "production") throw new Error("SHIPPING_WEBHOOK_SECRET must be set in production");
	return DEVELOPMENT_WEBHOOK_SECRET;
}
