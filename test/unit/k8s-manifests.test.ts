// deploy/k8s cannot be applied here; kubeconform checks every object against
// the Kubernetes schemas (strict: no unknown fields), and the rest keeps the
// manifests true to the code: every service runs somewhere, every env var is
// one the app reads, every node is probed on the health server it has.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { ENV_NAMES } from "../../lib/platform/env";

const ROOT = path.join(__dirname, "../..");
const K8S = path.join(ROOT, "deploy/k8s");
const RUNNER_VARS = ["SERVICES", "SERVICEDIR"];
/** services/<name>/<name>.service.ts: the names SERVICES takes. */
const serviceNames = readdirSync(path.join(ROOT, "services"));

interface Probe {
	httpGet?: { path: string; port: number | string };
}
interface Container {
	image: string;
	env?: { name: string; value?: string }[];
	envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
	ports?: { name?: string; containerPort: number }[];
	readinessProbe?: Probe;
	livenessProbe?: Probe;
	resources?: { requests?: Record<string, string> };
	lifecycle?: { preStop?: unknown };
}
interface Manifest {
	kind: string;
	metadata: { name: string; annotations?: Record<string, string> };
	data?: Record<string, string>;
	stringData?: Record<string, string>;
	spec: {
		replicas?: number;
		selector?: Record<string, string>;
		ports?: { port: number; targetPort?: number | string }[];
		scaleTargetRef?: { kind: string; name: string };
		metrics?: { resource?: { name: string } }[];
		template: {
			metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
			spec: { containers: Container[]; terminationGracePeriodSeconds?: number };
		};
	};
}

const files = readdirSync(K8S).filter(file => file.endsWith(".yaml") && file !== "kustomization.yaml");
const manifests = files.flatMap(file => parseAllDocuments(readFileSync(path.join(K8S, file), "utf8")).map(doc => doc.toJS() as Manifest));
const byKind = (kind: string) => manifests.filter(m => m.kind === kind);
const deployments = byKind("Deployment");
// Nodes of the TypeScript image; the Python node has its own and no HTTP server.
const appDeployments = deployments.filter(d => d.spec.template.spec.containers[0].image.startsWith("moleculer-shop:"));
const container = (d: Manifest) => d.spec.template.spec.containers[0];
const config = byKind("ConfigMap").find(m => m.metadata.name === "shop-config")!;

describe("deploy/k8s", () => {
	it("passes kubeconform -strict against the Kubernetes schemas", () => {
		// Builds kubeconform and unpacks the schemas on first use (scripts/infra.sh); a failure to do so fails here.
		const run = spawnSync("bash", ["scripts/infra.sh", "kubeconform", "-strict", "-summary", "-output", "json", ...files.map(f => path.join(K8S, f))], {
			cwd: ROOT,
			encoding: "utf8",
			timeout: 280_000,
		});
		expect({ status: run.status, stderr: run.stderr, stdout: run.stdout }).toMatchObject({ status: 0 });
		expect(JSON.parse(run.stdout).summary).toEqual({ valid: manifests.length, invalid: 0, errors: 0, skipped: 0 });
	}, 300_000);

	it("lists every manifest file in kustomization.yaml", () => {
		const kustomization = parseAllDocuments(readFileSync(path.join(K8S, "kustomization.yaml"), "utf8"))[0].toJS() as { resources: string[] };
		expect(new Set(kustomization.resources)).toEqual(new Set(files));
	});

	it("runs every service of the code on some Deployment, and no service the code lacks", () => {
		const hosted = appDeployments.flatMap(d => (container(d).env?.find(e => e.name === "SERVICES")?.value ?? "").split(","));
		expect(new Set(hosted)).toEqual(new Set(serviceNames));
	});

	it("sets only environment variables the app reads, from the ConfigMap, the Secret and env", () => {
		const sources = [config, ...byKind("Secret")].flatMap(m => Object.keys({ ...m.data, ...m.stringData }));
		const set = deployments.flatMap(d => (container(d).env ?? []).map(e => e.name));
		for (const name of [...sources, ...set]) expect([...ENV_NAMES, ...RUNNER_VARS]).toContain(name);
		expect(config.data).toMatchObject({
			NODE_ENV: "production",
			MONITORING_HOST: "0.0.0.0",
			SERIALIZER: "JSON",
			TRANSPORTER: expect.stringMatching(/^nats:/),
		});
		expect(Object.keys(byKind("Secret")[0].stringData ?? {}).sort()).toEqual(["ADMIN_EMAIL", "ADMIN_PASSWORD", "JWT_SECRET", "SHIPPING_WEBHOOK_SECRET"]);
	});

	it.each(appDeployments.map(d => [d.metadata.name, d] as const))(
		"%s: config from the ConfigMap and Secret, probed on HEALTH_PORT, drained, scraped",
		(_, deployment) => {
			const node = container(deployment);
			expect(node.envFrom).toEqual(expect.arrayContaining([{ configMapRef: { name: "shop-config" } }, { secretRef: { name: "shop-secrets" } }]));
			const port = (probe?: Probe) => {
				const named = probe?.httpGet?.port;
				return typeof named === "number" ? named : node.ports?.find(p => p.name === named)?.containerPort;
			};
			const healthPort = Number(config.data!.HEALTH_PORT);
			expect({ path: node.readinessProbe?.httpGet?.path, port: port(node.readinessProbe) }).toEqual({ path: "/health/ready", port: healthPort });
			expect({ path: node.livenessProbe?.httpGet?.path, port: port(node.livenessProbe) }).toEqual({ path: "/health/live", port: healthPort });
			expect(node.resources?.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
			// The broker drains in-flight requests for up to 10 s after SIGTERM (moleculer.config.ts).
			expect(node.lifecycle?.preStop).toBeDefined();
			expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(20);
			expect(deployment.spec.template.metadata.annotations).toMatchObject({
				"prometheus.io/scrape": "true",
				"prometheus.io/port": config.data!.METRICS_PORT,
			});
		},
	);

	it("autoscales existing Deployments on CPU and leaves their replica count to the autoscaler", () => {
		const hpas = byKind("HorizontalPodAutoscaler");
		expect(hpas.map(h => h.spec.scaleTargetRef?.name)).toEqual(expect.arrayContaining(["api", "products"]));
		for (const hpa of hpas) {
			const target = deployments.find(d => hpa.spec.scaleTargetRef?.kind === "Deployment" && d.metadata.name === hpa.spec.scaleTargetRef.name);
			expect(target).toBeDefined();
			expect(target!.spec.replicas).toBeUndefined();
			expect(hpa.spec.metrics?.map(m => m.resource?.name)).toEqual(["cpu"]);
		}
	});

	it("exposes the gateway pods on port 3000", () => {
		const gateway = byKind("Service").find(s => s.metadata.name === "api")!;
		const api = deployments.find(d => d.metadata.name === "api")!;
		expect(api.spec.template.metadata.labels).toMatchObject(gateway.spec.selector!);
		expect(gateway.spec.ports?.map(p => p.port)).toEqual([3000]);
		expect(container(api).ports?.find(p => p.name === gateway.spec.ports![0].targetPort)?.containerPort).toBe(3000);
	});
});

// No single server whose loss stops checkout: NATS and MongoDB run three of
// each, spread over machines, written to in ways that survive losing one
// (README, "Deploying", what runs in HA).
interface StatefulSetSpec {
	replicas: number;
	serviceName: string;
	volumeClaimTemplates: { metadata: { name: string } }[];
	template: {
		spec: {
			affinity?: { podAntiAffinity?: { preferredDuringSchedulingIgnoredDuringExecution?: { podAffinityTerm: { topologyKey: string } }[] } };
			containers: { args?: string[]; volumeMounts?: { name: string; mountPath: string }[] }[];
		};
	};
}
interface BudgetSpec {
	maxUnavailable?: number;
	minAvailable?: number;
	selector: { matchLabels: Record<string, string> };
}

describe("deploy/k8s without a single point of failure", () => {
	const statefulSet = (name: string) => byKind("StatefulSet").find(m => m.metadata.name === name)!.spec as unknown as StatefulSetSpec;
	const headless = (name: string) => byKind("Service").find(m => m.metadata.name === name)!.spec as unknown as { clusterIP?: string };
	const pods = (name: string) => Array.from({ length: statefulSet(name).replicas }, (_, i) => `${name}-${i}.${statefulSet(name).serviceName}`);
	const spreadOverMachines = (name: string) =>
		statefulSet(name).template.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.map(p => p.podAffinityTerm.topologyKey);

	it("runs NATS as three routed servers, each with a JetStream store of its own, spread over machines", () => {
		const nats = statefulSet("nats");
		expect(nats.replicas).toBe(3);
		expect(headless(nats.serviceName).clusterIP).toBe("None");
		const conf = byKind("ConfigMap").find(m => m.metadata.name === "nats-config")!.data!["nats.conf"];
		expect(conf.match(/nats-route:\/\/[^\s,\]]+/g)).toEqual(pods("nats").map(pod => `nats-route://${pod}:6222`));
		const storeDir = /store_dir: (\S+)/.exec(conf)![1];
		const mount = nats.template.spec.containers[0].volumeMounts!.find(m => m.mountPath === storeDir)!;
		expect(nats.volumeClaimTemplates.map(t => t.metadata.name)).toContain(mount.name);
		expect(spreadOverMachines("nats")).toEqual(["kubernetes.io/hostname"]);
	});

	it("points every node at all three NATS servers and keeps a copy of each fact stream on each", () => {
		expect(config.data!.TRANSPORTER.split(",")).toEqual(pods("nats").map(pod => `nats://${pod}:4222`));
		expect(config.data!.FACT_STREAM_REPLICAS).toBe(String(statefulSet("nats").replicas));
	});

	it("runs MongoDB as a 3-member replica set, initiated by a Job, that the services write to with majority", () => {
		const mongo = statefulSet("mongo");
		expect(mongo.replicas).toBe(3);
		expect(headless(mongo.serviceName).clusterIP).toBe("None");
		const args = mongo.template.spec.containers[0].args!;
		const replicaSet = args[args.indexOf("--replSet") + 1];
		expect(spreadOverMachines("mongo")).toEqual(["kubernetes.io/hostname"]);
		const init = JSON.stringify(byKind("Job").find(m => m.metadata.name === "mongo-init-replica-set"));
		for (const pod of pods("mongo")) expect(init).toContain(`${pod}:27017`);
		expect(init).toContain(`_id: \\"${replicaSet}\\"`);

		const uri = config.data!.MONGO_URI;
		expect(uri.slice("mongodb://".length).split("/")[0].split(",")).toEqual(pods("mongo").map(pod => `${pod}:27017`));
		expect(Object.fromEntries(new URLSearchParams(uri.split("?")[1]))).toEqual({
			replicaSet,
			w: "majority",
			retryWrites: "true",
			readPreference: "primary",
		});
	});

	it("keeps every node type, NATS and MongoDB under a PodDisruptionBudget that lets one pod go at a time", () => {
		const budgets = byKind("PodDisruptionBudget").map(m => m.spec as unknown as BudgetSpec);
		const nodes = deployments.filter(d => container(d).image.startsWith("moleculer-shop"));
		for (const workload of [...nodes, ...byKind("StatefulSet")]) {
			const labels = workload.spec.template.metadata.labels;
			const budget = budgets.find(b => Object.entries(b.selector.matchLabels).every(([key, value]) => labels[key] === value));
			expect({ [workload.metadata.name]: budget && (budget.maxUnavailable ?? budget.minAvailable) }).toEqual({ [workload.metadata.name]: 1 });
		}
	});
});
