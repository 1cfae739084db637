// `npm run bench:checkout [-- --quick]`: only the checkout table of the bench,
// for working on the order path (embedded defaults, then the cluster).
// BENCH_SHOPPERS=20 picks the shopper counts, BENCH_MODES=cluster the shops,
// BENCH_SECONDS and BENCH_WINDOW the length of a run and of its windows;
// BENCH_PROFILE=commerce,embedded
// profiles those nodes and prints where their time went.
import { startInfra } from "./infra";
import { measureCheckout, warmUp, type CheckoutResult } from "./checkout";
import { checkoutTable, windowTable, workDetail } from "./checkout-report";
import { clusterShop, embeddedShop } from "./shops";
import { stopAll } from "./processes";
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { PROFILES } from "./shops";
import { summarize } from "./profile-summary";

const seconds = Number(process.env.BENCH_SECONDS ?? (process.argv.includes("--quick") ? 6 : 20));
/** BENCH_WINDOW=30: cut each run into windows of that many seconds (a cost that grows shows in the later ones). */
const windowSeconds = Number(process.env.BENCH_WINDOW ?? seconds);
const warmUpSeconds = process.argv.includes("--quick") ? 5 : 15;
const shopperCounts = (process.env.BENCH_SHOPPERS ?? "20,100").split(",").map(Number);
const modes = (process.env.BENCH_MODES ?? "embedded,cluster").split(",");

function printProfiles(): void {
	if (!existsSync(PROFILES)) return;
	for (const node of readdirSync(PROFILES)) {
		for (const file of readdirSync(path.join(PROFILES, node)).filter(name => name.endsWith(".cpuprofile"))) {
			console.log(`\n== ${node}\n${summarize(path.join(PROFILES, node, file), 25)}`);
		}
	}
}

async function main(): Promise<void> {
	rmSync(PROFILES, { recursive: true, force: true });
	const runs: CheckoutResult[] = [];
	if (modes.includes("embedded")) {
		const embedded = await embeddedShop();
		await warmUp(embedded.shop, warmUpSeconds);
		for (const shoppers of shopperCounts) runs.push(await measureCheckout(embedded.shop, "embedded", shoppers, seconds, windowSeconds));
		await embedded.stop();
	}
	if (modes.includes("cluster")) {
		const cluster = await clusterShop(startInfra());
		await warmUp(cluster.shop, warmUpSeconds);
		for (const shoppers of shopperCounts) runs.push(await measureCheckout(cluster.shop, "cluster", shoppers, seconds, windowSeconds));
		await cluster.stop();
	}
	console.log(checkoutTable(runs));
	for (const run of runs)
		console.log(
			`\n${run.mode}, ${run.shoppers} shoppers:\n${workDetail(run)}\n${run.windows.length > 1 ? windowTable(run) : ""}${run.failures.length ? `\n- failures: ${run.failures.join("; ")}` : ""}`,
		);
	printProfiles();
}

main()
	.catch(err => {
		console.error(err);
		process.exitCode = 1;
	})
	.finally(() => stopAll());
