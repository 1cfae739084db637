// The circuit breaker as configured in moleculer.config.ts, between two nodes
// over the real NATS: a service that keeps failing stops receiving calls
// (they fail at once with 503 instead), is probed after halfOpenTime, and gets
// traffic again once it answers.
import { Errors, type ServiceBroker } from "moleculer";
import { uniqueName } from "../support/app";
import { clientNode } from "../support/cluster";
import { toErrorResponse } from "../../services/api/http-errors";
import { describeWithServers, serverUrls } from "../support/servers";

describeWithServers(["nats"], "circuit breaker between nodes", () => {
	const env = { TRANSPORTER: serverUrls.nats, NAMESPACE: uniqueName("cb") };
	let healthy = false;
	let received = 0;
	let provider: ServiceBroker;
	let caller: ServiceBroker;

	beforeAll(async () => {
		provider = await clientNode(env, "provider", [
			{
				name: "flaky",
				actions: {
					work() {
						received++;
						if (!healthy) throw new Errors.MoleculerError("disk on fire", 500, "BOOM"); // not retryable
						return "done";
					},
				},
			},
		]);
		caller = await clientNode(env, "caller");
		await caller.waitForServices(["flaky"], 10_000);
	});
	afterAll(async () => {
		await caller?.stop();
		await provider?.stop();
	});

	it("opens on a failing endpoint, fails fast with 503 while open, and closes once the service recovers", async () => {
		const attempt = () =>
			caller.call("flaky.work").then(
				() => 200,
				(err: unknown) => toErrorResponse(err).status,
			);
		// Half of at least 10 calls failing opens it.
		for (let i = 0; i < 10; i++) expect(await attempt()).toBe(500);
		const reachedBefore = received;
		for (let i = 0; i < 5; i++) expect(await attempt()).toBe(503);
		expect(received).toBe(reachedBefore); // none got through to the failing node

		healthy = true;
		// After halfOpenTime (10 s) one probe goes through; its success closes the circuit.
		const deadline = Date.now() + 20_000;
		let status = 503;
		while (status !== 200 && Date.now() < deadline) {
			await new Promise(resolve => setTimeout(resolve, 500));
			status = await attempt();
		}
		expect(status).toBe(200);
		for (let i = 0; i < 5; i++) expect(await attempt()).toBe(200);
	}, 40_000);
});
