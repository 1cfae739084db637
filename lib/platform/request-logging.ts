// Log lines that say which request they belong to. While a local action runs,
// its context's request id is kept in AsyncLocalStorage, and the production
// JSON formatter adds it to every line logged meanwhile, whatever logged it.
// With X-Request-Id (services/api/request-id.ts) one id follows a request through the
// logs of every node it crossed.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Context, Middleware } from "moleculer";

const current = new AsyncLocalStorage<{ requestID?: string | null }>();

export function RequestLoggingMiddleware(): Middleware {
	return {
		name: "RequestLogging",
		localAction(handler: (ctx: Context) => Promise<unknown>) {
			return (ctx: Context) => current.run({ requestID: ctx.requestID }, () => handler(ctx));
		},
	} as Middleware;
}

type PrintArgs = (args: unknown[]) => unknown[];

/** Moleculer's "json" format plus the request id of the line's action, if any. */
export function jsonWithRequestId(type: string, args: unknown[], bindings: Record<string, unknown>, { printArgs }: { printArgs: PrintArgs }): string[] {
	const requestID = current.getStore()?.requestID;
	return [JSON.stringify({ ts: Date.now(), level: type, msg: printArgs(args).join(" "), ...bindings, ...(requestID && { requestID }) })];
}
