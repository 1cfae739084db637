// docker-compose.yml and the Dockerfile cannot run here; this keeps them true
// to the code: every service has a node, every env var is one the app reads,
// every node is scraped and the dashboard asks for metrics the code exports.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { ENV_NAMES } from "../../lib/platform/env";
import { TRACING_EXPORTER } from "../support/jaeger";

const ROOT = path.join(__dirname, "../..");
const RUNNER_VARS = ["SERVICES", "SERVICEDIR"];
/** services/<name>/<name>.service.ts: the names SERVICES takes. */
const serviceNames = readdirSync(path.join(ROOT, "services"));

interface ComposeService {
	image?: string;
	build?: unknown;
	command?: string[];
	environment?: Record<string, string>;
	healthcheck?: unknown;
	ports?: string[];
	volumes?: string[];
	labels?: Record<string, string>;
	networks?: { default?: { ipv4_address?: string } };
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

	it("runs the app nodes in production unless told otherwise, with metrics and health open to the compose network only", () => {
		for (const [, svc] of appNodes) {
			expect(svc.environment).toMatchObject({ NODE_ENV: "${NODE_ENV:-production}", MONITORING_HOST: "0.0.0.0" });
			expect(svc.ports).toBeUndefined();
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

	it("puts Traefik alone on port 3000, balancing over every healthy api replica and trusted for X-Forwarded-For", () => {
		const { traefik, api } = compose.services;
		expect(traefik.ports).toEqual(["3000:3000"]);
		expect(traefik.command).toEqual(expect.arrayContaining(["--providers.docker=true", "--entrypoints.web.address=:3000"]));
		// Replicas publish nothing, so `--scale api=3` cannot clash on a host port.
		for (const [, svc] of appNodes) expect(svc.ports).toBeUndefined();
		expect(api.labels).toMatchObject({
			"traefik.enable": "true",
			"traefik.http.routers.api.entrypoints": "web",
			"traefik.http.services.api.loadbalancer.server.port": api.environment!.PORT,
			"traefik.http.services.api.loadbalancer.healthcheck.path": "/health/ready",
		});
		expect(api.environment!.TRUSTED_PROXIES).toBe(traefik.networks?.default?.ipv4_address);
	});

	it("has Prometheus scrape METRICS_PORT of every replica of every node type", () => {
		const prometheus = parse(readFileSync(path.join(ROOT, "deploy/prometheus/prometheus.yml"), "utf8")) as {
			scrape_configs: { dns_sd_configs?: { names: string[]; port: number }[] }[];
		};
		const discovery = prometheus.scrape_configs.flatMap(job => job.dns_sd_configs ?? []);
		expect(new Set(discovery.flatMap(sd => sd.names))).toEqual(new Set(appNodes.map(([name]) => name)));
		for (const sd of discovery) expect(String(sd.port)).toBe(appNodes[0][1].environment!.METRICS_PORT);
	});

	it("runs the Jaeger that scripts/infra.sh builds, on its config, and every node sends it spans as the tracing cluster test does", () => {
		const release = readFileSync(path.join(ROOT, "scripts/infra.sh"), "utf8").match(/^JAEGER_RELEASE=v(\S+)$/m)![1];
		const jaeger = compose.services.jaeger;
		expect(jaeger.image).toBe(`jaegertracing/jaeger:${release}`);
		expect(jaeger.volumes).toContain("./deploy/jaeger/config.yaml:/etc/jaeger/config.yaml:ro");
		expect(jaeger.command).toEqual(["--config", "/etc/jaeger/config.yaml"]);
		const config = parse(readFileSync(path.join(ROOT, "deploy/jaeger/config.yaml"), "utf8"));
		expect(config.service.pipelines.traces.receivers).toContain("zipkin");
		const zipkinPort = String(config.receivers.zipkin.endpoint).match(/:-(\d+)\}$/)![1];
		for (const [, svc] of appNodes) {
			expect(svc.environment).toMatchObject({
				TRACING_EXPORTER: `\${TRACING_EXPORTER:-${TRACING_EXPORTER}}`,
				TRACING_URL: `http://jaeger:${zipkinPort}`,
			});
		}
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

	it("listens for metrics and health on the container's interfaces, which its HEALTHCHECK and probes need", () => {
		expect(dockerfile).toMatch(/MONITORING_HOST=0\.0\.0\.0/);
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
