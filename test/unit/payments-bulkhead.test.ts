// The bulkhead on payments.charge: the card provider never sees more than 10
// charges at once, 100 more wait their turn, and beyond that a charge is
// refused at once with a retryable 429 (the saga retries it a few times before
// it gives the order up as PAYMENT_ERROR).
import PaymentsService from "../../services/payments/payments.service";
import { startApp, type TestApp } from "../support/app";
import type { CardProvider } from "../../services/payments/card-provider";

describe("payments bulkhead", () => {
	let app: TestApp;
	beforeAll(async () => {
		app = await startApp([PaymentsService]);
	});
	afterAll(() => app.stop());

	it("keeps the provider at 10 charges in flight, queues 100 and refuses the rest", async () => {
		let inFlight = 0;
		let most = 0;
		let open!: () => void;
		const gate = new Promise<void>(resolve => (open = resolve));
		const slowProvider: CardProvider = {
			async charge({ idempotencyKey }) {
				most = Math.max(most, ++inFlight);
				await gate;
				inFlight--;
				return { status: "captured", reference: `ch_${idempotencyKey}` };
			},
			async refund() {},
		};
		(app.broker.getLocalService("payments") as unknown as { provider: CardProvider }).provider = slowProvider;

		const card = { number: "4242424242424242", expMonth: 12, expYear: 2099, cvc: "123" };
		const charges = Array.from({ length: 120 }, (_, i) =>
			app.broker.call("payments.charge", { orderId: `order-${i}`, amount: 1000, currency: "USD", card }).then(
				() => "charged",
				(err: { type?: string; code?: number }) => `${err.code} ${err.type}`,
			),
		);
		await new Promise(resolve => setTimeout(resolve, 200));
		expect(inFlight).toBe(10);
		open();
		const results = await Promise.all(charges);
		expect(most).toBe(10);
		expect(results.filter(r => r === "charged")).toHaveLength(110);
		expect(new Set(results.filter(r => r !== "charged"))).toEqual(new Set(["429 QUEUE_FULL"]));
	});
});
