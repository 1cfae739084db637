// The one test for "that key already exists", on MongoDB and on NeDB, and the
// insert-if-absent that idempotent writes are built on.

const DUPLICATE_KEY = 11000;

export function isDuplicateKey(err: unknown): boolean {
	const e = err as { code?: number; errorType?: string } | null;
	return e?.code === DUPLICATE_KEY || e?.errorType === "uniqueViolated";
}

/** Runs an insert; `false` when the document was already there. Any other failure is thrown. */
export async function insertIfAbsent(insert: Promise<unknown>): Promise<boolean> {
	try {
		await insert;
		return true;
	} catch (err) {
		if (isDuplicateKey(err)) return false;
		throw err;
	}
}
