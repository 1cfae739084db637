// The one place that reads process.env. Every knob has an embedded default so
// `npm start` runs with nothing set; a malformed value stops start-up with a
// message naming the variable instead of surfacing later as odd behaviour.
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";

export type NodeEnv = "development" | "test" | "production";
export type TracingExporter = "Console" | "Zipkin" | "Jaeger" | "Event";

/** Files for TLS to NATS, in the shape of the nats package's `tls` option. */
export interface NatsTlsFiles {
	/** The CA that signed the server's certificate (else the system's roots). */
	caFile?: string;
	/** This node's client certificate and key, for servers that verify clients. */
	certFile?: string;
	keyFile?: string;
}

export interface Env {
	nodeEnv: NodeEnv;
	namespace: string;
	nodeID?: string;
	/** nats://, tls://, redis://, amqp://, ... ; unset: every service in one broker, no transporter. */
	transporter?: string;
	/** Set when any NATS_TLS_* is: NATS connections then require TLS. */
	natsTls?: NatsTlsFiles;
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
	/** Where METRICS_PORT and HEALTH_PORT listen: loopback unless set (the image sets 0.0.0.0). */
	monitoringHost: string;
	tracingExporter?: TracingExporter;
	tracingUrl?: string;
	dataDir: string;
	requestTimeoutMs: number;
	dbConnectTimeoutMs: number;
	rateLimit: number;
	rateLimitWindowMs: number;
	trustedProxies: string[];
	/** Browser origins (scheme://host[:port]) allowed to call the API cross-origin; none by default. */
	corsOrigins: string[];
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
	/** Copies JetStream keeps of each fact stream it creates: 1 on a single NATS server, 3 on a 3-server cluster. */
	factStreamReplicas: number;
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
	"CORS_ORIGINS",
	"DATA_DIR",
	"DB_CONNECT_TIMEOUT_MS",
	"FACT_STREAM_REPLICAS",
	"HEALTH_PORT",
	"JWT_SECRET",
	"LOGLEVEL",
	"METRICS_PORT",
	"MONITORING_HOST",
	"MONGO_URI",
	"NAMESPACE",
	"NATS_TLS_CA",
	"NATS_TLS_CERT",
	"NATS_TLS_KEY",
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

function integer(source: Source, name: EnvName, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
	const raw = text(source, name);
	if (raw == null) return fallback;
	const value = Number(raw);
	if (!Number.isInteger(value) || value < min || value > max) {
		throw new Error(`${name} must be an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ""}, got "${raw}"`);
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

/** Hides the password of a URL (or a token, as in nats://token@host) so it can go into logs and error messages. */
export function redactUrl(raw: string): string {
	return raw.replace(/\/\/([^/@]*)@/g, (_, userinfo: string) => (userinfo.includes(":") ? `//${userinfo.slice(0, userinfo.indexOf(":"))}:***@` : "//***@"));
}

/** nats:// or tls:// (TLS required): the transporter and the channels go over NATS. */
export function isNatsUrl(raw: string | undefined): boolean {
	return raw != null && /^(nats|tls):\/\//i.test(raw);
}

/** amqp:// or amqps:// (TLS): the transporter goes over RabbitMQ and the channels on its queues. */
export function isAmqpUrl(raw: string | undefined): boolean {
	return raw != null && /^amqps?:\/\//i.test(raw);
}

const hasHost = (server: string) => URL.canParse(server) && new URL(server).hostname !== "";

// A NATS or AMQP URL that does not parse (lib/platform/nats-options.ts takes
// servers and credentials from it; amqplib would fail at connect time, over and
// over) stops start-up naming TRANSPORTER, password hidden.
function transporterUrl(source: Source): string | undefined {
	const raw = text(source, "TRANSPORTER");
	if (raw == null) return raw;
	if (isNatsUrl(raw)) {
		const servers = raw.split(",").map(server => server.trim());
		if (!servers.every(server => isNatsUrl(server) && hasHost(server))) {
			throw new Error(
				`TRANSPORTER must be nats://[user:password@]host[:port] or tls://..., comma-separated for several servers, got "${redactUrl(raw)}"`,
			);
		}
	}
	if (isAmqpUrl(raw)) {
		// Moleculer's transporter and the channels adapter both take several brokers as a ";"-separated list.
		const brokers = raw.split(";").map(server => server.trim());
		if (!brokers.every(server => isAmqpUrl(server) && hasHost(server))) {
			throw new Error(
				`TRANSPORTER must be amqp://[user:password@]host[:port][/vhost] or amqps://..., ";"-separated for several brokers, got "${redactUrl(raw)}"`,
			);
		}
	}
	return raw;
}

function list(source: Source, name: EnvName): string[] {
	return (text(source, name) ?? "")
		.split(",")
		.map(item => item.trim())
		.filter(Boolean);
}

// An origin is exactly what a browser sends in its Origin header: no path, no
// trailing slash, so the comparison can be a plain string match.
function origins(source: Source): string[] {
	const values = list(source, "CORS_ORIGINS");
	for (const value of values) {
		if (!/^https?:\/\/[^/*]+$/.test(value) || !URL.canParse(value) || new URL(value).origin !== value) {
			throw new Error(
				`CORS_ORIGINS must be comma-separated origins such as https://shop.example.com (http or https, host, optional port; no path, no wildcard), got "${value}"`,
			);
		}
	}
	return values;
}

function readableFile(source: Source, name: EnvName): string | undefined {
	const file = text(source, name);
	if (file == null) return undefined;
	const resolved = path.resolve(file);
	if (!statSync(resolved, { throwIfNoEntry: false })?.isFile()) throw new Error(`${name} must name an existing file, got "${file}"`);
	try {
		accessSync(resolved, constants.R_OK);
	} catch {
		throw new Error(`${name} names "${file}", which this process may not read`);
	}
	return resolved;
}

function natsTls(source: Source, transporter: string | undefined): NatsTlsFiles | undefined {
	const hasCert = text(source, "NATS_TLS_CERT") != null;
	if (hasCert !== (text(source, "NATS_TLS_KEY") != null)) {
		throw new Error(`NATS_TLS_CERT and NATS_TLS_KEY go together: ${hasCert ? "NATS_TLS_KEY" : "NATS_TLS_CERT"} is not set`);
	}
	const files: NatsTlsFiles = {
		caFile: readableFile(source, "NATS_TLS_CA"),
		certFile: readableFile(source, "NATS_TLS_CERT"),
		keyFile: readableFile(source, "NATS_TLS_KEY"),
	};
	if (!files.caFile && !files.certFile) return undefined;
	if (!isNatsUrl(transporter)) throw new Error("NATS_TLS_CA, NATS_TLS_CERT and NATS_TLS_KEY need TRANSPORTER to be a nats:// or tls:// URL");
	return Object.fromEntries(Object.entries(files).filter(([, file]) => file != null));
}

export function readEnv(source: Source = process.env): Env {
	const nodeEnv = oneOf(source, "NODE_ENV", ["development", "test", "production"] as const, "development")!;
	const metricsPort = text(source, "METRICS_PORT");
	const transporter = transporterUrl(source);
	return {
		nodeEnv,
		namespace: text(source, "NAMESPACE") ?? "shop",
		nodeID: text(source, "NODEID"),
		transporter,
		natsTls: natsTls(source, transporter),
		cacher: url(source, "CACHER", ["redis", "rediss"]),
		mongoUri: url(source, "MONGO_URI", ["mongodb", "mongodb+srv"]),
		serializer: text(source, "SERIALIZER") ?? "JSON",
		port: integer(source, "PORT", 3000),
		monitoringHost: text(source, "MONITORING_HOST") ?? "127.0.0.1",
		healthPort: text(source, "HEALTH_PORT") == null ? undefined : integer(source, "HEALTH_PORT", 0),
		logLevel: oneOf(source, "LOGLEVEL", ["fatal", "error", "warn", "info", "debug", "trace"] as const, "info")!,
		// Tests start many brokers in one process: no fixed port unless asked for.
		metricsPort: metricsPort === "off" || (metricsPort == null && nodeEnv === "test") ? undefined : integer(source, "METRICS_PORT", 3030),
		tracingExporter: oneOf(source, "TRACING_EXPORTER", ["Console", "Zipkin", "Jaeger", "Event"] as const),
		tracingUrl: text(source, "TRACING_URL"),
		dataDir: text(source, "DATA_DIR") ?? "./data",
		requestTimeoutMs: integer(source, "REQUEST_TIMEOUT_MS", 10_000, 100),
		dbConnectTimeoutMs: integer(source, "DB_CONNECT_TIMEOUT_MS", 10_000, 100),
		rateLimit: integer(source, "RATE_LIMIT", 600, 1),
		rateLimitWindowMs: integer(source, "RATE_LIMIT_WINDOW_MS", 60_000, 1000),
		trustedProxies: list(source, "TRUSTED_PROXIES"),
		corsOrigins: origins(source),
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
		// JetStream's own bounds: 1 to 5 copies, each on a different server.
		factStreamReplicas: integer(source, "FACT_STREAM_REPLICAS", 1, 1, 5),
	};
}

/** Signs development tokens only; production refuses to start without JWT_SECRET. */
export const DEVELOPMENT_JWT_SECRET = "development-only-secret-never-use-in-production";
/** The admin seeded outside production when ADMIN_EMAIL/ADMIN_PASSWORD are unset (README states it). */
export const DEVELOPMENT_ADMIN = { email: "admin@shop.local", password: "admin-password-123" } as const;
export const DEVELOPMENT_WEBHOOK_SECRET = "development-carrier-webhook-secret";

/** The shortest signing key production accepts (JWT_SECRET, SHIPPING_WEBHOOK_SECRET). */
export const MIN_SECRET_LENGTH = 32;

/** A production key: set, long enough, and not the published development value. */
function productionSecret(name: EnvName, value: string | undefined, development: string): string {
	if (!value || value.length < MIN_SECRET_LENGTH || value === development) {
		throw new Error(`${name} must be set to a random string of at least ${MIN_SECRET_LENGTH} characters in production`);
	}
	return value;
}

/** The secret that signs access tokens; a weak or missing one stops a production node. */
export function jwtSecret(env: Env): string {
	if (env.nodeEnv !== "production") return env.jwtSecret ?? DEVELOPMENT_JWT_SECRET;
	return productionSecret("JWT_SECRET", env.jwtSecret, DEVELOPMENT_JWT_SECRET);
}

/** The admin account to ensure exists; production refuses to start without one. */
export function adminCredentials(env: Env): { email: string; password: string } {
	if (env.adminEmail && env.adminPassword) return { email: env.adminEmail, password: env.adminPassword };
	if (env.nodeEnv === "production") throw new Error("ADMIN_EMAIL and ADMIN_PASSWORD must be set in production");
	return DEVELOPMENT_ADMIN;
}

/** The carrier webhook's HMAC key; a weak or missing one stops a production node. */
export function shippingWebhookSecret(env: Env): string {
	if (env.nodeEnv !== "production") return env.shippingWebhookSecret ?? DEVELOPMENT_WEBHOOK_SECRET;
	return productionSecret("SHIPPING_WEBHOOK_SECRET", env.shippingWebhookSecret, DEVELOPMENT_WEBHOOK_SECRET);
}

/** The secrets that fall back to their published development values (only possible outside production). */
export function developmentSecretsInUse(env: Env): string[] {
	if (env.nodeEnv === "production") return [];
	return [
		...(env.jwtSecret ? [] : ["JWT_SECRET"]),
		...(env.adminEmail && env.adminPassword ? [] : ["ADMIN_EMAIL/ADMIN_PASSWORD"]),
		...(env.shippingWebhookSecret ? [] : ["SHIPPING_WEBHOOK_SECRET"]),
	];
}
