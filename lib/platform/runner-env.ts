// moleculer-runner copies every env var named like a broker option over that
// option, nested ones too (TRACING_EXPORTER over tracing.exporter). Ours are
// built from those same variables in moleculer.config.ts, with more than the
// bare value: the runner's copy would replace the NATS options (TLS files,
// reconnecting), the Redis cacher's prefix, TTL and key limits, and the
// tracing exporter's URL. Those options ignore the copy.
import type { BrokerOptions } from "moleculer";

/** Broker options built from an env var of the same name, as paths. */
const BUILT_FROM_ENV = [["transporter"], ["cacher"], ["tracing", "exporter"]] as const;

function keep(owner: Record<string, unknown>, key: string): void {
	const value = owner[key];
	Object.defineProperty(owner, key, { enumerable: true, get: () => value, set: () => undefined });
}

export function keepOptionsFromRunnerEnv(config: BrokerOptions): BrokerOptions {
	for (const path of BUILT_FROM_ENV) {
		const owner = path
			.slice(0, -1)
			.reduce<Record<string, unknown> | undefined>(
				(object, key) => object?.[key] as Record<string, unknown> | undefined,
				config as Record<string, unknown>,
			);
		if (owner) keep(owner, path[path.length - 1]);
	}
	return config;
}
