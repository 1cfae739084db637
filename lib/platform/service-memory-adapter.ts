// moleculer-db's NeDB adapter with what the services need beyond it: an
// atomic conditional update that returns the document as it became, as
// MongoDB's findOneAndUpdate does (NeDB applies one operation at a time).
import { MemoryAdapter } from "moleculer-db";

type Doc = Record<string, unknown>;

interface NeDb {
	update(query: Doc, update: Doc, options: { multi: boolean; returnUpdatedDocs: boolean }): Promise<[number, Doc | null]>;
}

export class ServiceMemoryAdapter extends MemoryAdapter {
	/** The one matching document after the update, or null when none matched. */
	async findOneAndUpdate(query: Doc, update: Doc): Promise<Doc | null> {
		const [matched, doc] = await (this as unknown as { db: NeDb }).db.update(query, update, { multi: false, returnUpdatedDocs: true });
		return matched === 1 ? doc : null;
	}
}
