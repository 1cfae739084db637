// The Prometheus configuration and alert rules, checked by Prometheus's own
// promtool: both configs load (rule files included), and every alert fires on
// the series it watches and stays quiet on healthy ones (alerts.test.yml).
// test/cluster/operations.cluster.test.ts sees the same rules fire on a live cluster.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describeWithTools, findExecutable } from "../support/nats-server";

const DIR = path.join(__dirname, "../../deploy/prometheus");
const promtool = findExecutable("promtool");

function run(...args: string[]): string {
	try {
		return execFileSync(promtool!, args, { cwd: DIR, encoding: "utf8", stdio: "pipe" });
	} catch (err) {
		const { stdout, stderr } = err as { stdout: string; stderr: string };
		throw new Error(`promtool ${args.join(" ")} failed:\n${stdout}\n${stderr}`);
	}
}

describeWithTools("Prometheus rules and configs (promtool)", { promtool }, () => {
	it.each(["prometheus.yml", "local.yml"])("loads %s with its alert rules", file => {
		expect(run("check", "config", file)).toMatch(/SUCCESS: 6 rules found/);
	});

	it("fires each alert on the series it watches, and not on healthy ones", () => {
		expect(run("test", "rules", "alerts.test.yml")).toMatch(/SUCCESS/);
	});
});
