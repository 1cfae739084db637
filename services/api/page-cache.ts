// The gateway's copies of public catalog answers, as sent: the JSON bytes and
// their ETag. A hit is answered without entering moleculer-web or calling a
// service (200 with the bytes, or 304 when the client's copy matches).
//
// Kept in the gateway's memory and emptied whenever the catalog changes: the
// catalog service broadcasts its cache-clean event after clearing the shared
// cache, and every gateway node hears it. An answer that was on its way while
// the catalog changed is not kept (the generation moved on), and the TTL
// bounds how long a missed event could leave a page stale.
import { createHash } from "node:crypto";

export interface Page {
	body: Buffer;
	/** A strong validator: the body's hash, quoted. */
	etag: string;
}

export interface PageCacheLimits {
	maxEntries: number;
	maxBytes: number;
	ttlMs: number;
}

interface Entry {
	page: Page;
	expiresAt: number;
}

export class PageCache {
	private readonly entries = new Map<string, Entry>();
	private bytes = 0;
	private currentGeneration = 0;

	constructor(private readonly limits: PageCacheLimits) {}

	/** Changes whenever the cache is emptied; a page is kept only if it has not changed since its request began. */
	get generation(): number {
		return this.currentGeneration;
	}

	get(key: string): Page | undefined {
		const entry = this.entries.get(key);
		if (!entry) return undefined;
		if (entry.expiresAt > Date.now()) return entry.page;
		this.remove(key, entry);
		return undefined;
	}

	set(key: string, page: Page, generation: number): void {
		if (generation !== this.currentGeneration || page.body.length > this.limits.maxBytes) return;
		const old = this.entries.get(key);
		if (old) this.remove(key, old);
		// Oldest first (a Map iterates in insertion order) until the new page fits.
		for (const [oldestKey, oldest] of this.entries) {
			if (this.entries.size < this.limits.maxEntries && this.bytes + page.body.length <= this.limits.maxBytes) break;
			this.remove(oldestKey, oldest);
		}
		this.entries.set(key, { page, expiresAt: Date.now() + this.limits.ttlMs });
		this.bytes += page.body.length;
	}

	clear(): void {
		this.entries.clear();
		this.bytes = 0;
		this.currentGeneration++;
	}

	private remove(key: string, entry: Entry): void {
		this.entries.delete(key);
		this.bytes -= entry.page.body.length;
	}
}

export function pageOf(body: Buffer): Page {
	return { body, etag: `"${createHash("sha1").update(body).digest("base64url")}"` };
}

/** Whether an If-None-Match header names this ETag (weak comparison, as RFC 9110 asks for GET). */
export function clientHasPage(ifNoneMatch: string | undefined, etag: string): boolean {
	if (!ifNoneMatch) return false;
	if (ifNoneMatch.trim() === "*") return true;
	return ifNoneMatch.split(",").some(tag => {
		const candidate = tag.trim();
		return (candidate.startsWith("W/") ? candidate.slice(2) : candidate) === etag;
	});
}
