// Reads a V8 .cpuprofile: busy time by package and the hottest functions.
import { readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.join(__dirname, "..");

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
	nodes: ProfileNode[];
	samples: number[];
}

/** node_modules/<package> (scoped too), node:<module>, "ours", or V8's own entries ((garbage collector), (idle), ...). */
function owner(url: string, functionName: string): string {
	const inModules = url.split("node_modules/")[1];
	if (inModules) return inModules.split("/").slice(0, inModules.startsWith("@") ? 2 : 1).join("/");
	if (url.startsWith("node:")) return url;
	return url ? "ours" : functionName;
}

export function summarize(file: string, top = 15): string {
	const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
	const byId = new Map(profile.nodes.map(node => [node.id, node]));
	const byOwner = new Map<string, number>();
	const byFunction = new Map<string, number>();
	let busy = 0;
	for (const id of profile.samples) {
		const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
		if (functionName === "(idle)") continue;
		busy++;
		const who = owner(url, functionName);
		byOwner.set(who, (byOwner.get(who) ?? 0) + 1);
		const where = `${functionName || "(anonymous)"} ${who === "ours" ? path.relative(ROOT, url.replace("file://", "")) : who}:${lineNumber + 1}`;
		byFunction.set(where, (byFunction.get(where) ?? 0) + 1);
	}
	const lines = (counts: Map<string, number>) =>
		[...counts]
			.sort((a, b) => b[1] - a[1])
			.slice(0, top)
			.map(([name, count]) => `  ${((count / busy) * 100).toFixed(1).padStart(5)} %  ${name}`)
			.join("\n");
	return `busy time by package:\n${lines(byOwner)}\nhottest functions (self time):\n${lines(byFunction)}`;
}
