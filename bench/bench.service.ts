// Actions that exist only for the benchmarks: an echo (the cost of a call
// itself), one only signed-in users may call (refused without a token), and
// a CPU-bound action (what scaling out buys).
import { createHash } from "node:crypto";
import type { Context, ServiceSchema } from "moleculer";

const BenchService: ServiceSchema = {
	name: "bench",
	actions: {
		echo: { access: "public", handler: (ctx: Context) => ctx.params },
		private: { access: "user", handler: () => ({ signedIn: true }) },
		cpu: {
			access: "public",
			// About 2 ms of hashing on these machines: a stand-in for real work.
			handler() {
				let digest = "seed";
				for (let i = 0; i < 2000; i++) digest = createHash("sha256").update(digest).digest("hex");
				return { digest };
			},
		},
	},
};

export default BenchService;
