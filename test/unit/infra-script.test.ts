// scripts/infra.sh never adopts a server it did not start: stopping "its"
// database would then stop nothing, and a fault test would pass for nothing.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const script = path.join(__dirname, "../../scripts/infra.sh");

describe("scripts/infra.sh", () => {
	it("refuses to start a server on a port something else already listens on, and says how to choose another", async () => {
		const squatter = net.createServer();
		await new Promise<void>(resolve => squatter.listen(0, "127.0.0.1", resolve));
		const port = (squatter.address() as net.AddressInfo).port;
		const state = mkdtempSync(path.join(os.tmpdir(), "infra-"));
		try {
			const run = spawnSync("bash", [script, "start", "redis"], {
				env: { ...process.env, INFRA_DIR: state, INFRA_REDIS_PORT: String(port) },
				encoding: "utf8",
			});
			expect(run.status).toBe(1);
			expect(run.stderr).toContain(`127.0.0.1:${port} (redis) is already in use by a process this script did not start`);
			expect(run.stderr).toContain("INFRA_REDIS_PORT");
		} finally {
			squatter.close();
			rmSync(state, { recursive: true, force: true });
		}
	});
});
