// Stop and start one of the real servers (fault tests), through the same
// script developers use.
import { execFileSync } from "node:child_process";
import path from "node:path";

const script = path.join(__dirname, "../../scripts/infra.sh");

export function stopServer(name: "nats" | "redis" | "mongo"): void {
	execFileSync("bash", [script, "stop", name], { stdio: "inherit" });
}

export function startServer(name: "nats" | "redis" | "mongo"): void {
	execFileSync("bash", [script, "start", name], { stdio: "inherit" });
}
