// Paging parameters every list shares: converted from the query string, bounded.
import { MAX_PAGE_SIZE } from "../contract/contract";

export const pageParams = {
	page: { type: "number", integer: true, min: 1, max: 100_000, convert: true, default: 1 },
	pageSize: { type: "number", integer: true, min: 1, max: MAX_PAGE_SIZE, convert: true, default: 20 },
} as const;

export interface PageParams {
	page: number;
	pageSize: number;
}
