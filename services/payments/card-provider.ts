// The card network, which the project does not own. One interface; the
// simulated provider answers the test cards of docs/architecture.md
// ("Checkout saga") and, like real providers, is idempotent by key: charging
// the same key twice captures once and answers the same.
import { createHash } from "node:crypto";
import { digitsOf } from "../../lib/rules/cards";
import type { Card, Cents } from "../../lib/contract/contract";

export type ChargeOutcome = { status: "captured"; reference: string } | { status: "declined"; reason: string };

export class ProviderUnavailableError extends Error {
	constructor() {
		super("The card provider is temporarily unavailable");
		this.name = "ProviderUnavailableError";
	}
}

export interface CardProvider {
	/** Throws ProviderUnavailableError for a transient failure worth retrying. */
	charge(request: { idempotencyKey: string; amount: Cents; currency: string; card: Card }): Promise<ChargeOutcome>;
	refund(request: { idempotencyKey: string; reference: string; amount: Cents }): Promise<void>;
}

const DECLINES: Record<string, string> = {
	"4000000000000002": "card_declined",
	"4000000000009995": "insufficient_funds",
};
const TRANSIENT = "4000000000000119";

export class SimulatedCardProvider implements CardProvider {
	async charge({ idempotencyKey, card }: { idempotencyKey: string; amount: Cents; currency: string; card: Card }): Promise<ChargeOutcome> {
		const number = digitsOf(card.number);
		if (number === TRANSIENT) throw new ProviderUnavailableError();
		if (DECLINES[number]) return { status: "declined", reason: DECLINES[number] };
		return { status: "captured", reference: `ch_${createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 24)}` };
	}

	async refund(): Promise<void> {}
}
