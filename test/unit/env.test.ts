import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { adminCredentials, DEVELOPMENT_ADMIN, developmentSecretsInUse, jwtSecret, readEnv, redactUrl, shippingWebhookSecret } from "../../lib/platform/env";
import { natsConnectionOptions } from "../../lib/platform/nats-options";
import { channelAdapter } from "../../moleculer.config";
import AuthService from "../../services/auth/auth.service";
import UsersService from "../../services/users/users.service";
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

	it("allows no cross-origin browser by default, and takes exact origins from CORS_ORIGINS", () => {
		expect(readEnv({}).corsOrigins).toEqual([]);
		expect(readEnv({ CORS_ORIGINS: " https://shop.example.com, http://localhost:8080 " }).corsOrigins).toEqual([
			"https://shop.example.com",
			"http://localhost:8080",
		]);
		for (const CORS_ORIGINS of ["*", "shop.example.com", "https://shop.example.com/", "https://shop.example.com/app", "https://*.example.com"]) {
			expect(() => readEnv({ CORS_ORIGINS })).toThrow(/^CORS_ORIGINS/);
		}
	});

	it("keeps one copy of each fact stream unless FACT_STREAM_REPLICAS asks for 1 to 5, and hands it to the JetStream adapter", () => {
		expect(readEnv({}).factStreamReplicas).toBe(1);
		expect(readEnv({ FACT_STREAM_REPLICAS: "3" }).factStreamReplicas).toBe(3);
		for (const FACT_STREAM_REPLICAS of ["0", "6", "2.5", "three"]) {
			expect(() => readEnv({ FACT_STREAM_REPLICAS })).toThrow(/^FACT_STREAM_REPLICAS must be an integer >= 1 and <= 5/);
		}
		const adapter = channelAdapter(readEnv({ TRANSPORTER: "nats://a:4222,nats://b:4222,nats://c:4222", FACT_STREAM_REPLICAS: "3" }));
		expect(adapter).toMatchObject({ type: "NATS", options: { nats: { streamConfig: { num_replicas: 3 } } } });
	});

	it("serves metrics and health on loopback unless MONITORING_HOST says otherwise", () => {
		expect(readEnv({}).monitoringHost).toBe("127.0.0.1");
		expect(readEnv({ MONITORING_HOST: "0.0.0.0" }).monitoringHost).toBe("0.0.0.0");
	});

	it("takes RabbitMQ URLs for TRANSPORTER, several brokers separated by semicolons, and refuses one without a host", () => {
		expect(readEnv({ TRANSPORTER: "amqp://shop:secret@rabbit:5672/shop" }).transporter).toBe("amqp://shop:secret@rabbit:5672/shop");
		expect(readEnv({ TRANSPORTER: "amqps://rabbit-a:5671;amqps://rabbit-b:5671" }).transporter).toBe("amqps://rabbit-a:5671;amqps://rabbit-b:5671");
		expect(() => readEnv({ TRANSPORTER: "amqp://shop:hunter2@" })).toThrow(/^TRANSPORTER must be amqp:\/\/(?!.*hunter2)/);
		expect(() => readEnv({ TRANSPORTER: "amqp://rabbit-a;nats://nats" })).toThrow(/^TRANSPORTER/);
	});

	it("never prints a password from a URL", () => {
		expect(redactUrl("mongodb://app:hunter2@db:27017/shop")).toBe("mongodb://app:***@db:27017/shop");
		expect(() => readEnv({ MONGO_URI: "mongo://app:hunter2@db" })).toThrow(/^(?!.*hunter2)/);
		expect(redactUrl("nats://s3cr3t-token@nats:4222,nats://shop:hunter2@nats2")).toBe("nats://***@nats:4222,nats://shop:***@nats2");
		expect(() => readEnv({ TRANSPORTER: "nats://shop:hunter2@" })).toThrow(/^TRANSPORTER(?!.*hunter2)/);
	});
});

describe("NATS security settings", () => {
	let dir: string;
	let files: { ca: string; cert: string; key: string };
	const transporter = "nats://127.0.0.1:4222";

	beforeAll(() => {
		dir = mkdtempSync(path.join(os.tmpdir(), "env-test-"));
		files = { ca: path.join(dir, "ca.pem"), cert: path.join(dir, "node.pem"), key: path.join(dir, "node-key.pem") };
		for (const file of Object.values(files)) writeFileSync(file, "PEM");
	});
	afterAll(() => rmSync(dir, { recursive: true, force: true }));

	it("takes the CA and the client certificate and key as files for TLS", () => {
		const env = readEnv({ TRANSPORTER: transporter, NATS_TLS_CA: files.ca, NATS_TLS_CERT: files.cert, NATS_TLS_KEY: files.key });
		expect(env.natsTls).toEqual({ caFile: files.ca, certFile: files.cert, keyFile: files.key });
		expect(readEnv({ TRANSPORTER: transporter, NATS_TLS_CA: files.ca }).natsTls).toEqual({ caFile: files.ca });
		expect(readEnv({ TRANSPORTER: transporter }).natsTls).toBeUndefined();
	});

	it("stops start-up naming the variable whose file is missing", () => {
		const missing = path.join(dir, "nope.pem");
		expect(() => readEnv({ TRANSPORTER: transporter, NATS_TLS_CA: missing })).toThrow(/^NATS_TLS_CA must name an existing file, got ".*nope\.pem"/);
		expect(() => readEnv({ TRANSPORTER: transporter, NATS_TLS_CERT: files.cert, NATS_TLS_KEY: missing })).toThrow(/^NATS_TLS_KEY/);
		expect(() => readEnv({ TRANSPORTER: transporter, NATS_TLS_CERT: dir, NATS_TLS_KEY: files.key })).toThrow(/^NATS_TLS_CERT/);
	});

	it("wants the client certificate and its key together", () => {
		expect(() => readEnv({ TRANSPORTER: transporter, NATS_TLS_CERT: files.cert })).toThrow(/NATS_TLS_KEY is not set/);
		expect(() => readEnv({ TRANSPORTER: transporter, NATS_TLS_CA: files.ca, NATS_TLS_KEY: files.key })).toThrow(/NATS_TLS_CERT is not set/);
	});

	it("refuses TLS files when the transporter is not NATS", () => {
		expect(() => readEnv({ NATS_TLS_CA: files.ca })).toThrow(/TRANSPORTER/);
		expect(() => readEnv({ TRANSPORTER: "redis://127.0.0.1:6379", NATS_TLS_CA: files.ca })).toThrow(/TRANSPORTER/);
	});

	it("connects with the URL's user and password, decoded, and keeps them out of the options' printout", () => {
		const options = natsConnectionOptions(readEnv({ TRANSPORTER: "nats://shop:p%40ss%3Aw0rd@nats-a:4222,nats://nats-b" }));
		expect(options.servers).toEqual(["nats-a:4222", "nats-b"]);
		expect(options.authenticator).toEqual(expect.any(Function));
		expect((options.authenticator as (nonce?: string) => unknown)()).toEqual({ user: "shop", pass: "p@ss:w0rd" });
		expect(JSON.stringify(options)).not.toMatch(/p@ss|p%40ss/);
		expect(options.tls).toBeUndefined();
	});

	it("takes a URL user without a password as a token", () => {
		const options = natsConnectionOptions(readEnv({ TRANSPORTER: "nats://s3cr3t-token@127.0.0.1:4222" }));
		expect((options.authenticator as (nonce?: string) => unknown)()).toEqual({ auth_token: "s3cr3t-token" });
		expect(natsConnectionOptions(readEnv({ TRANSPORTER: transporter })).authenticator).toBeUndefined();
	});

	it("requires TLS for tls:// URLs and when TLS files are set", () => {
		expect(natsConnectionOptions(readEnv({ TRANSPORTER: "tls://127.0.0.1:4222" })).tls).toEqual({});
		const env = readEnv({ TRANSPORTER: transporter, NATS_TLS_CA: files.ca, NATS_TLS_CERT: files.cert, NATS_TLS_KEY: files.key });
		expect(natsConnectionOptions(env).tls).toEqual({ caFile: files.ca, certFile: files.cert, keyFile: files.key });
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

	it("refuses a missing, short or development carrier webhook secret in production", () => {
		for (const SHIPPING_WEBHOOK_SECRET of [undefined, "short-secret", "x".repeat(31), shippingWebhookSecret(readEnv({}))]) {
			expect(() => shippingWebhookSecret(readEnv({ NODE_ENV: "production", SHIPPING_WEBHOOK_SECRET }))).toThrow(/SHIPPING_WEBHOOK_SECRET.*32/);
		}
		expect(shippingWebhookSecret(readEnv({ NODE_ENV: "production", SHIPPING_WEBHOOK_SECRET: strong }))).toBe(strong);
	});

	it("names the development secrets in use, for the start-up warning", () => {
		expect(developmentSecretsInUse(readEnv({}))).toEqual(["JWT_SECRET", "ADMIN_EMAIL/ADMIN_PASSWORD", "SHIPPING_WEBHOOK_SECRET"]);
		expect(
			developmentSecretsInUse(
				readEnv({ JWT_SECRET: strong, ADMIN_EMAIL: "a@example.com", ADMIN_PASSWORD: "p".repeat(12), SHIPPING_WEBHOOK_SECRET: strong }),
			),
		).toEqual([]);
	});

	it("stops a production node from starting without them", async () => {
		await expect(startApp([AuthService], { NODE_ENV: "production", JWT_SECRET: undefined, METRICS_PORT: "off" })).rejects.toThrow(/JWT_SECRET/);
		await expect(startApp([UsersService], { NODE_ENV: "production", ADMIN_EMAIL: undefined, METRICS_PORT: "off" })).rejects.toThrow(/ADMIN_EMAIL/);
	});
});
