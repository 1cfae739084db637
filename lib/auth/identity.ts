// Identity rules without a broker: what a valid email, password and name are.
// An address as browsers' type=email accept it (ASCII, a dotted domain):
// fastest-validator's own email rule lets control characters through.
// Surrounding whitespace and case do not matter; they are normalised away.
const EMAIL = "[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+";
export const emailRule = {
	type: "string",
	trim: true,
	lowercase: true,
	max: 254,
	pattern: `^\\s*${EMAIL}\\s*$`,
	messages: { stringPattern: "email must be an address such as ann@example.com" },
} as const;
// Long passphrases welcome; the cap keeps one request from buying minutes of CPU.
export const passwordRule = { type: "string", min: 10, max: 128 } as const;
export const nameRule = { type: "string", trim: true, min: 1, max: 100 } as const;
export const refreshTokenRule = { type: "string", min: 20, max: 200 } as const;

/** fastest-validator's `normalize` for code paths that skip validation (env, seeds). */
export function normalizeEmail(email: string): string {
	return email.trim().toLowerCase();
}
