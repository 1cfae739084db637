// Access tokens (short-lived JWTs) and refresh tokens (opaque, stored hashed).
import { createHash, createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { Errors } from "moleculer";
import type { Role } from "../contract/contract";

const ALGORITHM = "HS256";
const ISSUER = "moleculer-shop";
const AUDIENCE = "moleculer-shop-api";

export interface AccessClaims {
	sub: string;
	email: string;
	roles: Role[];
	/** The refresh-token family (session) this token belongs to; logout revokes it. */
	sid: string;
}

/**
 * The signing key, made once from the secret: given the secret as a string,
 * jsonwebtoken makes a key object on every call, and a verify then costs
 * about 30 µs instead of 8.
 */
export function accessTokenKey(secret: string): KeyObject {
	return createSecretKey(Buffer.from(secret, "utf8"));
}

export function signAccessToken(claims: AccessClaims, secret: KeyObject, ttlSeconds: number): string {
	return jwt.sign({ email: claims.email, roles: claims.roles, sid: claims.sid }, secret, {
		algorithm: ALGORITHM,
		issuer: ISSUER,
		audience: AUDIENCE,
		subject: claims.sub,
		expiresIn: ttlSeconds,
	});
}

/** Our access tokens are well under this; a longer header is not worth parsing. */
const MAX_ACCESS_TOKEN_LENGTH = 2048;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Whether a bearer value has the shape of a signed JWT (three base64url parts) of sane length. */
export function looksLikeAccessToken(token: string): boolean {
	return token.length <= MAX_ACCESS_TOKEN_LENGTH && JWT_SHAPE.test(token);
}

export const BEARER_HINT = "Use an Authorization: Bearer <token> header";

/** The token of an Authorization header; null when it is not `Bearer <token>`, undefined when the token cannot be one of ours. */
export function bearerTokenOf(header: string): string | null | undefined {
	const [scheme, token] = header.split(" ");
	if (scheme?.toLowerCase() !== "bearer" || !token) return null;
	return looksLikeAccessToken(token) ? token : undefined;
}

/** The token of an Authorization header, or a 401: anything that cannot be one of our tokens is refused before any service sees it. */
export function bearerToken(header: string): string {
	const token = bearerTokenOf(header);
	if (token === null) throw invalidToken(BEARER_HINT);
	if (token === undefined) throw invalidToken();
	return token;
}

export function invalidToken(reason = "The access token is invalid or expired"): Errors.MoleculerClientError {
	const err = new Errors.MoleculerClientError(reason, 401, "INVALID_TOKEN");
	err.name = "UnAuthorizedError";
	return err;
}

/** The claims of a token we signed; anything else (other alg, other key, expired, malformed) is a 401. */
export function verifyAccessToken(token: string, secret: KeyObject): AccessClaims {
	try {
		// Pinned algorithm: `alg: none` and algorithm confusion are refused.
		const payload = jwt.verify(token, secret, { algorithms: [ALGORITHM], issuer: ISSUER, audience: AUDIENCE });
		if (typeof payload === "string" || !payload.sub || !payload.sid || !Array.isArray(payload.roles)) throw invalidToken();
		return { sub: payload.sub, email: String(payload.email), roles: payload.roles, sid: String(payload.sid) };
	} catch {
		throw invalidToken();
	}
}

export function hashToken(token: string): string {
	return createHash("sha256").update(token).digest("base64url");
}

export function newRefreshToken(): { token: string; hash: string } {
	const token = randomBytes(32).toString("base64url");
	return { token, hash: hashToken(token) };
}
