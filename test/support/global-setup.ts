import { probeServers, serverAddresses, type ServerName } from "./servers";

export default async function globalSetup(): Promise<void> {
	const available = await probeServers();
	const missing = (Object.keys(serverAddresses) as ServerName[]).filter(name => !available.includes(name));
	if (missing.length === 0) return;
	const message = `Servers not reachable: ${missing.map(name => `${name} (${serverAddresses[name].join(", ")})`).join(", ")}. Start them with: npm run infra:up`;
	if (process.env.REQUIRE_INFRA === "1") throw new Error(`REQUIRE_INFRA=1: ${message}`);
	console.warn(`\n*** ${message}\n*** Suites that need them are SKIPPED.\n`);
}
