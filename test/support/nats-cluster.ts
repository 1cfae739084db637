// A NATS cluster of a test's own: nats-servers on free loopback ports, routed
// to each other, each with its own JetStream store, as `scripts/infra.sh
// nats-cluster` runs one. Its monitoring endpoints say which server leads a
// stream and how many clients each holds.
import path from "node:path";
import { freePort, waitFor } from "./cluster";
import { NatsServer } from "./nats-server";

/** What /jsz?accounts=true&streams=true says of a stream's copies. */
export interface StreamCluster {
	leader?: string;
	replicas?: { name: string; current: boolean }[];
}

interface Jsz {
	meta_cluster?: { leader?: string; cluster_size?: number };
	account_details?: { stream_detail?: { name: string; cluster?: StreamCluster }[] }[];
}

export class NatsCluster {
	private constructor(
		readonly servers: NatsServer[],
		readonly names: string[],
	) {}

	/** Starts `size` servers under `dir` and resolves once JetStream has a meta leader (streams can be created). */
	static async start(dir: string, size = 3): Promise<NatsCluster> {
		const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
		const routes = routePorts.map(port => `"nats-route://127.0.0.1:${port}"`).join(", ");
		const names = routePorts.map((_, i) => `n${i + 1}`);
		const servers = await Promise.all(
			names.map((name, i) =>
				// JetStream in a cluster needs a server_name per server; a server ignores the route to itself.
				NatsServer.configure(path.join(dir, name), [
					`server_name: ${name}`,
					`cluster { name: shop, listen: "127.0.0.1:${routePorts[i]}", routes: [${routes}] }`,
				]),
			),
		);
		await Promise.all(servers.map(server => server.restart()));
		const cluster = new NatsCluster(servers, names);
		await cluster.jetStreamReady();
		return cluster;
	}

	/** Every server, starting with the `first`-th: one TRANSPORTER value per node spreads them over the cluster. */
	transporter(first = 0): string {
		return this.servers.map((_, i) => this.servers[(first + i) % this.servers.length].url).join(",");
	}

	byName(name: string): NatsServer {
		return this.servers[this.names.indexOf(name)];
	}

	/** Until every running server sees a JetStream meta leader of the whole cluster. */
	async jetStreamReady(timeoutMs = 30_000): Promise<void> {
		await waitFor(
			async () => {
				const views = await Promise.all(this.servers.filter(server => server.running).map(server => server.monitor<Jsz>("jsz")));
				return views.every(view => view.meta_cluster?.leader != null && view.meta_cluster.cluster_size === this.servers.length);
			},
			timeoutMs,
			() => this.servers.map((server, i) => `--- ${this.names[i]}\n${server.log.slice(-1500)}`).join("\n"),
		);
	}

	/**
	 * The copies of `stream` as its leader reports them (only the leader knows
	 * whether each copy is current); without a leader, as any running server
	 * reports it; undefined while no running server knows the stream.
	 */
	async stream(name: string): Promise<StreamCluster | undefined> {
		const views = await Promise.all(
			this.servers.map(async (server, i) => {
				if (!server.running) return undefined;
				const jsz = await server.monitor<Jsz>("jsz?accounts=true&streams=true");
				const stream = (jsz.account_details ?? []).flatMap(account => account.stream_detail ?? []).find(candidate => candidate.name === name);
				return stream?.cluster && { ...stream.cluster, reporter: this.names[i] };
			}),
		);
		const known = views.filter(view => view != null);
		return known.find(view => view.leader === view.reporter) ?? known[0];
	}

	/** Client connections per server name, from each running server's /connz. */
	async connections(): Promise<Record<string, number>> {
		const counts = await Promise.all(
			this.servers.map(async (server, i) => [
				this.names[i],
				server.running ? (await server.monitor<{ num_connections: number }>("connz")).num_connections : 0,
			]),
		);
		return Object.fromEntries(counts);
	}

	async stop(): Promise<void> {
		await Promise.all(this.servers.map(server => server.stop()));
	}
}
