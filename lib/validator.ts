// fastest-validator as Moleculer uses it, except that a rejected value is never
// copied into the error: errors travel between nodes and into logs, and the
// rejected value may be a password or a token.
import { Validators } from "moleculer";

type Problems = { actual?: unknown }[];
type CheckerFunction = ReturnType<Validators.Fastest["compile"]>;

function withoutValues<T>(result: T): T {
	if (Array.isArray(result)) for (const item of result as Problems) delete item.actual;
	return result;
}

export class RedactingValidator extends Validators.Fastest {
	compile(schema: Record<string, unknown>): CheckerFunction {
		const check = super.compile(schema) as (params: unknown) => unknown;
		const redacting = (params: unknown) => {
			const result = check(params);
			return result instanceof Promise ? result.then(withoutValues) : withoutValues(result);
		};
		// Moleculer awaits checks flagged async (params with custom async rules).
		(redacting as { async?: boolean }).async = (check as { async?: boolean }).async;
		return redacting as unknown as CheckerFunction;
	}
}
