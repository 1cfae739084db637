// The one broker configuration. Every knob comes from the environment
// (lib/platform/env.ts) with an embedded default, and says why it has its value.
import type { BrokerOptions } from "moleculer";
import { developmentSecretsInUse, isAmqpUrl, isNatsUrl, readEnv, type Env } from "./lib/platform/env";
import { natsConnectionOptions } from "./lib/platform/nats-options";
import { ConfirmedAmqpAdapter } from "./lib/platform/confirmed-amqp-adapter";
import { AmqpTransporter } from "./lib/platform/amqp-transporter";
import { keepOptionsFromRunnerEnv } from "./lib/platform/runner-env";
import { jsonWithRequestId, RequestLoggingMiddleware } from "./lib/platform/request-logging";
import { waitForCacher } from "./lib/platform/cacher-health";
import { FAIL_FAST, redisOptionsFromUrl } from "./lib/platform/redis-options";
import { ResilientRedisCacher } from "./lib/platform/resilient-redis-cacher";
import { ZipkinExporter } from "./lib/platform/zipkin-exporter";
import { startHealthServer } from "./lib/platform/health-server";
import { ParamsValidator } from "./lib/platform/validator";
import { ResponsiveRoundRobin, UnresponsiveNodesMiddleware } from "./lib/platform/unresponsive-nodes";
import { replCommands } from "./lib/ops/repl-commands";
import { Middleware as ChannelsMiddleware } from "@moleculer/channels";
import type { Server } from "node:http";

function transporter(env: Env): BrokerOptions["transporter"] {
	if (!env.transporter) return null; // embedded: every service in this one broker
	// Servers, credentials, TLS and reconnecting: lib/platform/nats-options.ts.
	if (isNatsUrl(env.transporter)) return { type: "NATS", options: natsConnectionOptions(env) };
	if (isAmqpUrl(env.transporter)) {
		// The transporter acknowledges a request only once its action has answered, so
		// prefetch is how many calls from other nodes a node serves at once. Moleculer's
		// default of 1 would make every node serve one call at a time, and two nodes
		// calling each other would each wait for the other until the timeout.
		// Acknowledgements on the channel a request came on: lib/platform/amqp-transporter.ts.
		return new AmqpTransporter({ url: env.transporter, prefetch: 100 });
	}
	return env.transporter as BrokerOptions["transporter"]; // any other Moleculer transporter URL (redis://, mqtt://, ...)
}

// Facts (docs/architecture.md, "Facts and channels") travel on
// @moleculer/channels, on the same server as the transporter: JetStream with
// NATS, Redis Streams with Redis, RabbitMQ queues with AMQP (durable, consumer
// groups, retries, dead letters); the in-process adapter in embedded mode. Any
// other transporter has no durable adapter here.
export function channelAdapter(env: Env): object {
	const scheme = env.transporter?.split(":")[0];
	const durable = {
		prefix: env.namespace,
		maxRetries: 5,
		maxInFlight: 20,
		deadLettering: { enabled: true, queueName: "DEAD_LETTER" },
	};
	if (scheme === "redis" || scheme === "rediss") {
		return {
			type: "Redis",
			options: {
				...durable,
				redis: {
					url: env.transporter,
					consumerOptions: {
						// As with JetStream: a group created late still reads from the start.
						startID: "0",
						// A fact taken by a consumer that died unacknowledged is handed on after 30 s (default: an hour).
						minIdleTime: 30_000,
					},
				},
			},
		};
	}
	if (isNatsUrl(env.transporter)) {
		return {
			type: "NATS",
			options: {
				...durable,
				nats: {
					// Its own connection, with the transporter's servers, credentials and TLS.
					connectionOptions: natsConnectionOptions(env),
					// Streams the adapter creates (one per channel, and DEAD_LETTER) keep this many
					// copies, on different servers: 3 on a 3-server cluster survives losing one.
					// An existing stream keeps the count it was created with (README, "NATS as a cluster").
					streamConfig: { num_replicas: env.factStreamReplicas },
					// A consumer group created after facts were published still gets them.
					consumerOptions: { config: { deliver_policy: "all" } },
				},
			},
		};
	}
	if (isAmqpUrl(env.transporter)) {
		// A fanout exchange per channel and a durable queue per consumer group
		// ("<group>.<namespace>.<channel>"): each group gets each fact once, and a
		// fact its consumer took but had not acknowledged when its connection
		// dropped (a SIGKILLed node) goes back to the queue at once for another.
		// A queue exists from its group's first start on: facts published before
		// that reach no one (JetStream and Streams keep them for late groups).
		// On a handler's error the adapter itself re-queues the fact at the tail
		// of its queue, at once, counting attempts in a header (that copy is not
		// persistent), and after maxRetries attempts moves it to the DEAD_LETTER
		// queue with its channel and group in headers. Publishes wait for
		// RabbitMQ's confirmation (lib/platform/confirmed-amqp-adapter.ts).
		return new ConfirmedAmqpAdapter({
			...durable,
			amqp: {
				url: env.transporter,
				// amqplib's defaults, said here because the publisher declares the same exchanges
				// (below) and RabbitMQ refuses a declaration that differs from the existing one.
				exchangeOptions: { durable: true },
				queueOptions: { durable: true },
				// Kept on disk, so a RabbitMQ restart loses no fact (the adapter's default is transient).
				messageOptions: { persistent: true },
				// Publishing to an exchange no consumer has declared yet makes RabbitMQ close
				// the adapter's one channel for good (404): the publisher declares it first.
				publishAssertExchange: { enabled: true, exchangeOptions: { durable: true } },
			},
		});
	}
	if (scheme) throw new Error(`Facts need a durable channel adapter: TRANSPORTER must be nats://, tls://, redis:// or amqp://, not ${scheme}`);
	// In-process, with the durable adapters' concurrency (its default handles one message at a time).
	return { type: "Fake", options: { prefix: env.namespace, maxInFlight: durable.maxInFlight } };
}

function tracingExporters(env: Env): unknown[] {
	if (!env.tracingExporter) return [];
	const options = env.tracingUrl ? { baseURL: env.tracingUrl, endpoint: env.tracingUrl } : {};
	// Zipkin (and Jaeger's Zipkin receiver): trace ids made hex whatever the caller's X-Request-Id (lib/platform/zipkin-exporter.ts).
	if (env.tracingExporter === "Zipkin") return [new ZipkinExporter(options)];
	return [{ type: env.tracingExporter, options }];
}

function cacher(env: Env): BrokerOptions["cacher"] {
	if (env.cacher) {
		// A Redis outage costs cache hits, never answers: lib/platform/resilient-redis-cacher.ts.
		return new ResilientRedisCacher({
			redis: {
				...redisOptionsFromUrl(env.cacher),
				// Never wait on a dead Redis: a read that cannot be answered at once is a miss.
				...FAIL_FAST,
				// The cache reads of one event-loop turn go out as one pipeline:
				// one socket write instead of one per request.
				enableAutoPipelining: true,
			},
			prefix: `${env.namespace}-cache`,
			// Entity changes clear entries at once; the TTL only bounds memory.
			ttl: 300,
			// Long keys (free-text searches) are hashed so Redis keys stay short.
			maxParamsLength: 80,
		});
	}
	// LRU, not the plain Memory cacher: every distinct search would otherwise be
	// kept forever, and hostile query strings could grow the heap without bound.
	return { type: "MemoryLRU", options: { max: 2000, ttl: 60, maxParamsLength: 80 } };
}

export function brokerConfig(env: Env = readEnv()): BrokerOptions {
	const production = env.nodeEnv === "production";
	let healthServer: Server | undefined;
	return keepOptionsFromRunnerEnv({
		namespace: env.namespace,
		nodeID: env.nodeID ?? null,

		logger: {
			type: "Console",
			options: {
				// One JSON object per line in production, for log shippers, with the
				// node id and the request id of the action that logged it.
				formatter: production ? jsonWithRequestId : "short",
				colors: !production,
				objectPrinter: production ? undefined : null,
			},
		},
		logLevel: env.logLevel as BrokerOptions["logLevel"],

		transporter: transporter(env),
		cacher: cacher(env),
		// JSON by default so nodes written in other languages can join the cluster.
		serializer: env.serializer as BrokerOptions["serializer"],

		// No call may hang forever: a SIGKILLed node would otherwise hold a request
		// until its heartbeat expires. Slow actions raise their own timeout.
		requestTimeout: env.requestTimeoutMs,
		// Retry only what Moleculer marks retryable (timeouts, unreachable nodes),
		// with backoff; a validation or business error is never retried.
		retryPolicy: {
			enabled: true,
			retries: 2,
			delay: 100,
			maxDelay: 1000,
			factor: 2,
			check: (err: Error) => Boolean((err as { retryable?: boolean }).retryable),
		},
		// Open per endpoint when half of at least 10 calls in 30 s fail with a
		// server error, so a sick node stops receiving traffic; probe after 10 s.
		// (Timeouts never reach the breaker; ResponsiveRoundRobin handles a node
		// that does not answer at all.)
		circuitBreaker: {
			enabled: true,
			threshold: 0.5,
			minRequestCount: 10,
			windowTime: 30,
			halfOpenTime: 10_000,
			check: (err: Error) => {
				const code = (err as { code?: number }).code;
				return typeof code !== "number" || code >= 500;
			},
		},
		// Default 5 s / 15 s: a dead node is dropped from the registry in ~10-15 s
		// instead of 30 s, without flapping on a busy event loop.
		heartbeatInterval: 5,
		heartbeatTimeout: 15,
		// Graceful shutdown: finish in-flight requests (up to 10 s) before leaving.
		tracking: { enabled: true, shutdownTimeout: 10_000 },
		registry: {
			// Round robin that passes over replicas whose calls just timed out.
			strategy: ResponsiveRoundRobin,
			// Serve from this node when it hosts the action: no network hop.
			preferLocal: true,
		},

		validator: new ParamsValidator(),

		middlewares: [
			UnresponsiveNodesMiddleware(),
			// Only the production formatter reads the request id: no per-call cost elsewhere.
			...(production ? [RequestLoggingMiddleware()] : []),
			ChannelsMiddleware({ adapter: channelAdapter(env), context: false } as never),
		],

		metrics: {
			enabled: env.metricsPort != null,
			reporter:
				env.metricsPort != null
					? [
							{
								type: "Prometheus",
								options: {
									// Loopback unless MONITORING_HOST opens it: the endpoint has no authentication.
									host: env.monitoringHost,
									port: env.metricsPort,
									path: "/metrics",
									defaultLabels: () => ({ namespace: env.namespace }),
									// The command line (it may hold secrets), the user and the network interfaces are nobody's business.
									excludes: ["process.arguments", "os.user.*", "os.network.*"],
								},
							},
						]
					: [],
		},

		tracing: {
			enabled: env.tracingExporter != null,
			sampling: { rate: 1 },
			// Spans never carry params: they hold passwords, tokens and card numbers.
			tags: { action: { params: false }, event: { params: false } },
			exporter: tracingExporters(env) as never, // Moleculer types each exporter by name; an instance is accepted too
		},

		// Custom commands for daily work (lib/ops/repl-commands.ts, README "The REPL").
		replOptions: { customCommands: replCommands() },

		async started(broker) {
			// The Redis cacher connects in the background; serve cached actions
			// only once it can answer.
			await waitForCacher(broker, 10_000);
			if (env.healthPort != null) healthServer = await startHealthServer(broker, env.healthPort, env.monitoringHost);
			const defaults = developmentSecretsInUse(env);
			if (defaults.length > 0)
				broker.logger.warn(
					`Development secrets in use (${defaults.join(", ")}): published values, for development only; set them for any shared or production deployment`,
				);
		},

		async stopped() {
			await new Promise(resolve => (healthServer ? healthServer.close(resolve) : resolve(undefined)));
		},
	});
}

export default brokerConfig();
