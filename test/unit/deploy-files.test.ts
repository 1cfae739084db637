// docker-compose.yml and the Dockerfile cannot run here; this keeps them true
// to the code: every service has a node, every env var is one the app reads.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { ENV_NAMES } from "../../lib/env";

const ROOT = path.join(__dirname, "../..");
const RUNNER_VARS = ["SERVICES", "SERVICEDIR"];
const serviceNames = readdirSync(path.join(ROOT, "services"))
	.filter(file => file.endsWith(".service.ts"))
	.map(file => file.replace(".service.ts", ""));

interface ComposeService {
	image?: string;
	build?: unknown;
	command?: string[];
	environment?: Record<string, string>;
	healthcheck?: unknown;
}
const compose = parse(readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as { services: Record<string, ComposeService> };
// Nodes of the TypeScript image (`build: .`); the Python node has its own.
const appNodes = Object.entries(compose.services).filter(([, svc]) => svc.build === ".");

describe("docker-compose.yml", () => {
	it("runs every service of the code on some node, and no service the code lacks", () => {
		const hosted = appNodes.flatMap(([, svc]) => (svc.environment?.SERVICES ?? "").split(",").map(s => s.trim()));
		expect(new Set(hosted)).toEqual(new Set(serviceNames));
	});

	it("sets only environment variables the app reads", () => {
		for (const [, svc] of appNodes) {
			for (const key of Object.keys(svc.environment ?? {})) expect([...ENV_NAMES, ...RUNNER_VARS]).toContain(key);
		}
	});

	it("runs the Python recommendations node from its own image on the same NATS and namespace", () => {
		const python = compose.services.recommendations;
		expect(python.build).toBe("polyglot/python");
		expect(python.environment).toMatchObject({ TRANSPORTER: "nats://nats:4222", NAMESPACE: appNodes[0][1].environment!.NAMESPACE });
	});

	it("points every node at NATS with JetStream, Redis and MongoDB, with JSON on the wire", () => {
		expect(compose.services.nats.command).toContain("-js");
		for (const [, svc] of appNodes) {
			expect(svc.environment).toMatchObject({
				TRANSPORTER: expect.stringMatching(/^nats:\/\/nats:/),
				CACHER: expect.stringMatching(/^redis:\/\/redis:/),
				MONGO_URI: expect.stringMatching(/^mongodb:\/\/mongo:/),
				SERIALIZER: "JSON",
			});
		}
		for (const name of ["nats", "redis", "mongo"]) expect(compose.services[name].healthcheck).toBeDefined();
	});
});

describe("Dockerfile", () => {
	const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");

	it("builds in stages on Node 24 and ships production dependencies only", () => {
		const stages = dockerfile.match(/^FROM .*/gm) ?? [];
		expect(stages.length).toBeGreaterThanOrEqual(2);
		expect(stages.every(line => /node:24/.test(line))).toBe(true);
		expect(dockerfile).toMatch(/npm ci --omit=dev/);
	});

	it("runs as a non-root user with a health check on the node's readiness", () => {
		expect(dockerfile).toMatch(/^USER (?!root)\w+/m);
		expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/health\/ready/m);
	});

	it("starts moleculer-runner on the built config, with SERVICEDIR for SERVICES to pick from", () => {
		expect(dockerfile).toMatch(/CMD \[.*moleculer-runner\.js.*dist\/moleculer\.config\.js/);
		expect(dockerfile).toMatch(/SERVICEDIR=dist\/services/);
	});
});
