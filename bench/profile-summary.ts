// Reads a V8 .cpuprofile: busy time by package, the hottest functions (self
// time) and the functions with the most time spent in and below them (total).
import { readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.join(__dirname, "..");

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	children?: number[];
}

interface CpuProfile {
	nodes: ProfileNode[];
	samples: number[];
}

/** node_modules/<package> (scoped too), node:<module>, "ours", or V8's own entries ((garbage collector), (idle), ...). */
function owner(url: string, functionName: string): string {
	const inModules = url.split("node_modules/")[1];
	if (inModules)
		return inModules
			.split("/")
			.slice(0, inModules.startsWith("@") ? 2 : 1)
			.join("/");
	if (url.startsWith("node:")) return url;
	return url ? "ours" : functionName;
}

function frameName({ functionName, url, lineNumber }: ProfileNode["callFrame"]): string {
	const who = owner(url, functionName);
	return `${functionName || "(anonymous)"} ${who === "ours" ? path.relative(ROOT, url.replace("file://", "")) : who}:${lineNumber + 1}`;
}

export function summarize(file: string, top = 15): string {
	const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
	const byId = new Map(profile.nodes.map(node => [node.id, node]));
	const parentOf = new Map<number, number>();
	for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
	const byOwner = new Map<string, number>();
	const self = new Map<string, number>();
	const total = new Map<string, number>();
	let busy = 0;
	for (const id of profile.samples) {
		const { callFrame } = byId.get(id)!;
		if (callFrame.functionName === "(idle)") continue;
		busy++;
		const who = owner(callFrame.url, callFrame.functionName);
		byOwner.set(who, (byOwner.get(who) ?? 0) + 1);
		self.set(frameName(callFrame), (self.get(frameName(callFrame)) ?? 0) + 1);
		// Every function on the stack once (recursion counted once).
		const onStack = new Set<string>();
		for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) onStack.add(frameName(byId.get(at)!.callFrame));
		for (const name of onStack) total.set(name, (total.get(name) ?? 0) + 1);
	}
	const lines = (counts: Map<string, number>, limit = top) =>
		[...counts]
			.sort((a, b) => b[1] - a[1])
			.slice(0, limit)
			.map(([name, count]) => `  ${((count / busy) * 100).toFixed(1).padStart(5)} %  ${name}`)
			.join("\n");
	const outermost = [...total].filter(([name]) => !name.startsWith("(root)"));
	return `busy time by package:\n${lines(byOwner)}\nhottest functions (self time):\n${lines(self)}\nmost time in and below (total time):\n${lines(new Map(outermost), 40)}`;
}
