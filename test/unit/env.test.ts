import { readEnv, redactUrl } from "../../lib/env";

describe("environment contract", () => {
	it("runs embedded with nothing set: no transporter, in-process cache, NeDB, JSON, port 3000", () => {
		const env = readEnv({});
		expect(env).toMatchObject({ nodeEnv: "development", namespace: "shop", serializer: "JSON", port: 3000, metricsPort: 3030, dataDir: "./data" });
		expect(env.transporter).toBeUndefined();
		expect(env.cacher).toBeUndefined();
		expect(env.mongoUri).toBeUndefined();
	});

	it("turns metrics off under test unless asked, and on a chosen port otherwise", () => {
		expect(readEnv({ NODE_ENV: "test" }).metricsPort).toBeUndefined();
		expect(readEnv({ NODE_ENV: "test", METRICS_PORT: "0" }).metricsPort).toBe(0);
		expect(readEnv({ METRICS_PORT: "off" }).metricsPort).toBeUndefined();
	});

	it("refuses malformed values at start-up, naming the variable", () => {
		expect(() => readEnv({ PORT: "eighty" })).toThrow(/PORT/);
		expect(() => readEnv({ CACHER: "memcached://x" })).toThrow(/CACHER/);
		expect(() => readEnv({ MONGO_URI: "localhost:27017" })).toThrow(/MONGO_URI/);
		expect(() => readEnv({ NODE_ENV: "staging" })).toThrow(/NODE_ENV/);
		expect(() => readEnv({ RATE_LIMIT: "0" })).toThrow(/RATE_LIMIT/);
	});

	it("never prints a password from a URL", () => {
		expect(redactUrl("mongodb://app:hunter2@db:27017/shop")).toBe("mongodb://app:***@db:27017/shop");
		expect(() => readEnv({ MONGO_URI: "mongo://app:hunter2@db" })).toThrow(/^(?!.*hunter2)/);
	});
});
