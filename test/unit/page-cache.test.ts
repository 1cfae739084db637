// The gateway's page cache: bounded, expiring, emptied as a whole when the
// catalog changes, and never refilled by an answer that was on its way then.
import { clientHasPage, PageCache, pageOf } from "../../services/api/page-cache";

const page = (text: string) => pageOf(Buffer.from(text));

describe("PageCache", () => {
	it("keeps pages by key until cleared, and refuses a page whose request began before the clear", () => {
		const cache = new PageCache({ maxEntries: 10, maxBytes: 1000, ttlMs: 60_000 });
		const askedBefore = cache.generation;
		cache.set("/a", page("a"), askedBefore);
		expect(cache.get("/a")?.body.toString()).toBe("a");
		cache.clear();
		expect(cache.get("/a")).toBeUndefined();
		cache.set("/a", page("stale"), askedBefore);
		expect(cache.get("/a")).toBeUndefined();
		cache.set("/a", page("fresh"), cache.generation);
		expect(cache.get("/a")?.body.toString()).toBe("fresh");
	});

	it("forgets the oldest pages past its entry and byte limits, and never keeps one larger than them all", () => {
		const cache = new PageCache({ maxEntries: 2, maxBytes: 10, ttlMs: 60_000 });
		cache.set("/1", page("1111"), 0);
		cache.set("/2", page("2222"), 0);
		cache.set("/3", page("3333"), 0);
		expect([cache.get("/1"), cache.get("/2"), cache.get("/3")].map(p => p?.body.toString())).toEqual([undefined, "2222", "3333"]);
		cache.set("/4", page("4444444"), 0); // 7 bytes: both others go
		expect([cache.get("/2"), cache.get("/3"), cache.get("/4")].map(p => p?.body.toString())).toEqual([undefined, undefined, "4444444"]);
		cache.set("/big", page("x".repeat(11)), 0);
		expect(cache.get("/big")).toBeUndefined();
		expect(cache.get("/4")).toBeDefined();
	});

	it("drops a page once its time is up", () => {
		jest.useFakeTimers({ now: 0 });
		try {
			const cache = new PageCache({ maxEntries: 10, maxBytes: 1000, ttlMs: 1000 });
			cache.set("/a", page("a"), 0);
			jest.setSystemTime(999);
			expect(cache.get("/a")).toBeDefined();
			jest.setSystemTime(1000);
			expect(cache.get("/a")).toBeUndefined();
		} finally {
			jest.useRealTimers();
		}
	});
});

describe("ETags", () => {
	it("are quoted hashes of the bytes: equal bytes, equal tags", () => {
		expect(page("{}").etag).toMatch(/^"[\w-]{27}"$/);
		expect(page("{}").etag).toBe(page("{}").etag);
		expect(page("{}").etag).not.toBe(page("{ }").etag);
	});

	it("match an If-None-Match that names them, weakly or in a list, or *", () => {
		const { etag } = page("x");
		for (const header of [etag, `W/${etag}`, `"a", ${etag}`, ` ${etag} ,"b"`, "*"]) expect(clientHasPage(header, etag)).toBe(true);
		for (const header of [undefined, "", '"a"', etag.slice(1, -1), `${etag}x`]) expect(clientHasPage(header, etag)).toBe(false);
	});
});
