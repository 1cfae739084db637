// Real node processes, started the way operators start them: moleculer-runner
// with the built config and SERVICES choosing what each node hosts.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { brokerConfig } from "../../moleculer.config";
import { readEnv } from "../../lib/platform/env";
import type { EnvOverrides } from "./app";

const ROOT = path.join(__dirname, "../..");
const RUNNER = path.join(ROOT, "node_modules/moleculer/bin/moleculer-runner.js");
const CONFIG = path.join(ROOT, "dist/moleculer.config.js");
const LOG_DIR = path.join(ROOT, ".infra/log/cluster-tests");
const PYTHON = path.join(ROOT, ".infra/venv/bin/python");

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const { port } = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

/** The service groups of docker-compose.yml, one node each (besides the gateway). */
const SHOP_NODES: Record<string, string> = {
	catalog: "products,inventory",
	identity: "auth,users",
	orders: "orders,carts",
	payments: "payments",
	fulfilment: "shipping,notifications",
};

export const SHOP_SERVICES = Object.values(SHOP_NODES).flatMap(services => services.split(","));

/** A node of the test's own in the cluster (no services of the app), to call actions as a REPL would. */
export async function clientNode(env: EnvOverrides, name = "test-client", schemas: ServiceSchema[] = []): Promise<ServiceBroker> {
	const broker = new ServiceBroker({ ...brokerConfig(readEnv({ ...env, NODE_ENV: "test" })), nodeID: `${name}-${process.pid}`, logger: false });
	for (const schema of schemas) broker.createService(schema);
	await broker.start();
	return broker;
}

export interface ClusterNode {
	name: string;
	/** Its Prometheus endpoint's port, when started with METRICS_PORT. */
	metricsPort?: number;
	child: ChildProcess;
	logFile: string;
	exited: Promise<number | null>;
	/** SIGTERM (graceful) by default; resolves when the process is gone. */
	stop(signal?: NodeJS.Signals): Promise<void>;
}

export class Cluster {
	private readonly nodes: ClusterNode[] = [];

	/** `env` is shared by every node: transporter, cacher, database, namespace. */
	constructor(private readonly env: EnvOverrides) {
		if (!existsSync(CONFIG)) throw new Error("dist/ is missing: run `npm run build` (npm test does it first)");
		mkdirSync(LOG_DIR, { recursive: true });
	}

	/** A TypeScript node hosting `services` (comma-separated). */
	start(name: string, services: string, env: EnvOverrides = {}): ClusterNode {
		return this.spawnNode(name, process.execPath, [RUNNER, "--config", CONFIG], ROOT, { SERVICEDIR: "dist/services", SERVICES: services, ...env });
	}

	/** A Python node running `module` from polyglot/python (the venv of scripts/infra.sh). */
	startPython(name: string, module: string, env: EnvOverrides = {}): ClusterNode {
		return this.spawnNode(name, PYTHON, ["-m", module], path.join(ROOT, "polyglot/python"), env);
	}

	private spawnNode(name: string, command: string, args: string[], cwd: string, env: EnvOverrides): ClusterNode {
		const logFile = path.join(LOG_DIR, `${this.env.NAMESPACE ?? "shop"}-${name}.log`);
		const log = createWriteStream(logFile);
		const child = spawn(command, args, {
			cwd,
			env: {
				...process.env,
				NODE_ENV: "development",
				METRICS_PORT: "off",
				LOGLEVEL: "info",
				...this.env,
				NODEID: `${name}-${process.pid}`,
				...env,
			} as NodeJS.ProcessEnv,
			stdio: ["ignore", "pipe", "pipe"],
		});
		child.stdout!.pipe(log);
		child.stderr!.pipe(log);
		const exited = new Promise<number | null>(resolve => child.once("exit", code => resolve(code)));
		const node: ClusterNode = {
			name,
			metricsPort: env.METRICS_PORT && env.METRICS_PORT !== "off" ? Number(env.METRICS_PORT) : undefined,
			child,
			logFile,
			exited,
			async stop(signal = "SIGTERM") {
				if (child.exitCode == null && child.signalCode == null) child.kill(signal);
				await exited;
			},
		};
		this.nodes.push(node);
		return node;
	}

	/**
	 * The whole shop as docker-compose.yml groups it: a gateway and one node per
	 * service group, `envOf` adding a node's own env (the i-th node, the gateway
	 * first); with `metrics`, every node serves /metrics on a port of its own.
	 * Resolves with the gateway's URL once it is ready.
	 */
	async startShop({ metrics = false, envOf = () => ({}) }: { metrics?: boolean; envOf?: (index: number) => EnvOverrides } = {}): Promise<string> {
		const nodeEnv = async (index: number): Promise<EnvOverrides> => ({ ...(metrics && { METRICS_PORT: String(await freePort()) }), ...envOf(index) });
		const port = await freePort();
		this.start("gateway", "api", { PORT: String(port), ...(await nodeEnv(0)) });
		for (const [i, [name, services]] of Object.entries(SHOP_NODES).entries()) this.start(name, services, await nodeEnv(i + 1));
		const url = `http://127.0.0.1:${port}`;
		await waitFor(
			async () => (await fetch(`${url}/health/ready`)).status === 200 && (await fetch(`${url}/api/products?pageSize=1`)).status === 200,
			60_000,
			() => this.logs(),
		);
		return url;
	}

	/** The nodes started so far (stopped ones included). */
	get started(): readonly ClusterNode[] {
		return this.nodes;
	}

	async stopAll(): Promise<void> {
		await Promise.all(this.nodes.map(node => node.stop()));
	}

	/** The last lines each node logged, for a failing test's message. */
	logs(lines = 15): string {
		return this.nodes.map(node => `--- ${node.name}\n${readFileSync(node.logFile, "utf8").split("\n").slice(-lines).join("\n")}`).join("\n");
	}
}

/** Polls until `ok` holds; throws with `describe()` after the timeout. */
export async function waitFor(ok: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (await ok().catch(() => false)) return;
		await new Promise(resolve => setTimeout(resolve, 200));
	}
	throw new Error(`Timed out after ${timeoutMs} ms\n${describe()}`);
}
