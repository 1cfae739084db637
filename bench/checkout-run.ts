// `npm run bench:checkout [-- --quick]`: only the checkout table of the bench,
// for working on the order path (embedded defaults, then the cluster).
import { startInfra } from "./infra";
import { measureCheckout, type CheckoutResult } from "./checkout";
import { checkoutTable, workDetail } from "./checkout-report";
import { clusterShop, embeddedShop } from "./shops";
import { stopAll } from "./processes";

const seconds = process.argv.includes("--quick") ? 6 : 20;
const shopperCounts = (process.env.BENCH_SHOPPERS ?? "20,100").split(",").map(Number);

async function main(): Promise<void> {
	const runs: CheckoutResult[] = [];
	const embedded = await embeddedShop();
	for (const shoppers of shopperCounts) runs.push(await measureCheckout(embedded.shop, "embedded", shoppers, seconds));
	await embedded.stop();
	const cluster = await clusterShop(startInfra());
	for (const shoppers of shopperCounts) runs.push(await measureCheckout(cluster.shop, "cluster", shoppers, seconds));
	await cluster.stop();
	console.log(checkoutTable(runs));
	for (const run of runs) console.log(`\n${run.mode}, ${run.shoppers} shoppers:\n${workDetail(run)}${run.failures.length ? `\n- failures: ${run.failures.join("; ")}` : ""}`);
}

main()
	.catch(err => {
		console.error(err);
		process.exitCode = 1;
	})
	.finally(() => stopAll());
