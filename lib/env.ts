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
}

/** Every variable the app reads; deploy files are checked against this list. */
export const ENV_NAMES = [
	"BODY_LIMIT",
	"CACHER",
	"DATA_DIR",
	"DB_CONNECT_TIMEOUT_MS",
	"HEALTH_PORT",
	"LOGLEVEL",
	"METRICS_PORT",
	"MONGO_URI",
	"NAMESPACE",
	"NODEID",
	"NODE_ENV",
	"PORT",
	"RATE_LIMIT",
	"RATE_LIMIT_WINDOW_MS",
	"REQUEST_TIMEOUT_MS",
	"SERIALIZER",
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
	};
}
