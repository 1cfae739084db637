// Identity rules without a broker: what a valid email, password and name are.
export const emailRule = { type: "email", normalize: true, max: 254 } as const;
// Long passphrases welcome; the cap keeps one request from buying minutes of CPU.
export const passwordRule = { type: "string", min: 10, max: 128 } as const;
export const nameRule = { type: "string", trim: true, min: 1, max: 100 } as const;
export const refreshTokenRule = { type: "string", min: 20, max: 200 } as const;

/** fastest-validator's `normalize` for code paths that skip validation (env, seeds). */
export function normalizeEmail(email: string): string {
	return email.trim().toLowerCase();
}
