// Authorisation inside each service, not only at the gateway: every call made
// on behalf of a client (the gateway always sets ctx.meta.user, null when
// anonymous) is checked against the action's declared `access`. Internal
// actions, and calls from the REPL (no client), are trusted.
import type { Context, ServiceSchema } from "moleculer";
import { assertAccess, requiredAccess, unauthorized } from "../lib/auth/access";
import type { Access, AuthUser } from "../lib/contract/contract";

export interface ClientMeta {
	user?: AuthUser | null;
	clientIp?: string;
}

/** The signed-in user of a call, or a 401. */
export function currentUser(ctx: Context<unknown, ClientMeta>): AuthUser {
	if (!ctx.meta.user) throw unauthorized();
	return ctx.meta.user;
}

export const Authorized: Partial<ServiceSchema> = {
	hooks: {
		before: {
			"*"(ctx: Context<unknown, ClientMeta>) {
				const action = ctx.action as { access?: Access; visibility?: string } | undefined;
				// Internal actions (visibility "public": callable by services, never
				// aliased) run on behalf of the service that calls them.
				if (ctx.meta.user === undefined || (action?.visibility ?? "published") !== "published") return;
				assertAccess(requiredAccess(action), ctx.meta.user);
			},
		},
	},
};
