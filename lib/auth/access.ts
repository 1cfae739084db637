// Who may call an action. Actions declare `access` ("public", "user",
// "admin"); the gateway checks it before calling, and the auth mixin checks it
// again inside the service for every call made on behalf of a client.
import { Errors } from "moleculer";
import type { Access, AuthUser } from "../contract/contract";

export function unauthorized(message = "Sign in to do this"): Errors.MoleculerClientError {
	const err = new Errors.MoleculerClientError(message, 401, "UNAUTHORIZED");
	err.name = "UnAuthorizedError";
	return err;
}

export function forbidden(): Errors.MoleculerClientError {
	const err = new Errors.MoleculerClientError("You are not allowed to do this", 403, "FORBIDDEN");
	err.name = "ForbiddenError";
	return err;
}

/** An action that does not say who may call it is for signed-in users only. */
export function requiredAccess(action: { access?: Access } | undefined): Access {
	return action?.access ?? "user";
}

/** Throws 401/403 unless `user` may call an action with `access`. */
export function assertAccess(access: Access, user: AuthUser | null | undefined): void {
	if (access === "public") return;
	if (!user) throw unauthorized();
	if (access === "admin" && !user.roles.includes("admin")) throw forbidden();
}

// Actions carry their `access` declaration in their schema.
declare module "moleculer/src/service" {
	interface ActionSchema {
		access?: Access;
		/** Moleculer honours a per-action timeout; the typings lack it. */
		timeout?: number;
	}
}
