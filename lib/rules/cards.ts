// Card numbers: Luhn check, brand, and the only parts we keep (brand, last4).
import { Errors } from "moleculer";
import type { Card } from "../contract/contract";

export const cardRule = {
	type: "object",
	strict: "remove",
	props: {
		number: { type: "string", pattern: "^[0-9 ]{12,23}$", messages: { stringPattern: "The card number must be 12-19 digits" } },
		expMonth: { type: "number", integer: true, min: 1, max: 12 },
		expYear: { type: "number", integer: true, min: 2000, max: 2100 },
		cvc: { type: "string", pattern: "^[0-9]{3,4}$", messages: { stringPattern: "The CVC must be 3 or 4 digits" } },
	},
} as const;

export function digitsOf(number: string): string {
	return number.replace(/ /g, "");
}

export function luhnValid(number: string): boolean {
	const digits = digitsOf(number);
	if (!/^[0-9]{12,19}$/.test(digits)) return false;
	let sum = 0;
	for (let i = 0; i < digits.length; i++) {
		let d = Number(digits[digits.length - 1 - i]);
		if (i % 2 === 1) {
			d *= 2;
			if (d > 9) d -= 9;
		}
		sum += d;
	}
	return sum % 10 === 0;
}

export function brandOf(number: string): string {
	const digits = digitsOf(number);
	if (digits.startsWith("4")) return "visa";
	if (/^(5[1-5]|2[2-7])/.test(digits)) return "mastercard";
	if (/^3[47]/.test(digits)) return "amex";
	return "card";
}

/** 422 with the field named, for a card that cannot be charged at all. */
export function assertChargeable(card: Card, now = new Date()): void {
	const invalid = (field: string, message: string) => new Errors.ValidationError(message, "VALIDATION_ERROR", [{ type: "card", field, message }]);
	if (!luhnValid(card.number)) throw invalid("payment.card.number", "The card number is not valid");
	const expired = card.expYear < now.getUTCFullYear() || (card.expYear === now.getUTCFullYear() && card.expMonth < now.getUTCMonth() + 1);
	if (expired) throw invalid("payment.card.expYear", "The card has expired");
}

export function cardSummary(card: Card): { brand: string; last4: string } {
	return { brand: brandOf(card.number), last4: digitsOf(card.number).slice(-4) };
}
