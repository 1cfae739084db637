import { adminCredentials, DEVELOPMENT_ADMIN, jwtSecret, readEnv, redactUrl } from "../../lib/env";
import AuthService from "../../services/auth.service";
import UsersService from "../../services/users.service";
import { startApp } from "../support/app";

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

describe("production secrets", () => {
	const strong = "k3".repeat(20);

	it("uses documented development values outside production", () => {
		expect(jwtSecret(readEnv({}))).toEqual(expect.any(String));
		expect(adminCredentials(readEnv({}))).toEqual(DEVELOPMENT_ADMIN);
	});

	it("refuses a missing, short or development JWT secret and missing admin credentials in production", () => {
		for (const JWT_SECRET of [undefined, "short-secret", jwtSecret(readEnv({}))]) {
			expect(() => jwtSecret(readEnv({ NODE_ENV: "production", JWT_SECRET }))).toThrow(/JWT_SECRET/);
		}
		expect(jwtSecret(readEnv({ NODE_ENV: "production", JWT_SECRET: strong }))).toBe(strong);
		expect(() => adminCredentials(readEnv({ NODE_ENV: "production" }))).toThrow(/ADMIN_EMAIL/);
	});

	it("stops a production node from starting without them", async () => {
		await expect(startApp([AuthService], { NODE_ENV: "production", JWT_SECRET: undefined, METRICS_PORT: "off" })).rejects.toThrow(/JWT_SECRET/);
		await expect(startApp([UsersService], { NODE_ENV: "production", ADMIN_EMAIL: undefined, METRICS_PORT: "off" })).rejects.toThrow(/ADMIN_EMAIL/);
	});
});
