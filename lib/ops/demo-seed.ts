// The REPL's `seed`: the demo catalog and stock, put back through the
// services' own actions.
import { everything, type Call } from "./consistency";
import { demoCatalog } from "../../services/products/demo-catalog";
import { MAX_PAGE_SIZE, type Page, type Product, type StockLevel } from "../contract/contract";

// Demo stock per product: the amount inventory gives every product when it seeds itself.
export const DEMO_UNITS = 100;

export interface SeedReport {
	products: { created: number; existing: number };
	stock: { seeded: number; existing: number; unitsEach: number };
}

async function catalog(call: Call): Promise<Product[]> {
	const all: Product[] = [];
	for (let page = 1; ; page++) {
		const result = await call<Page<Product>>("products.list", { page, pageSize: MAX_PAGE_SIZE });
		all.push(...result.rows);
		if (page >= result.totalPages) return all;
	}
}

/**
 * The demo catalog (by SKU) and demo stock for every product that has no stock
 * record yet, through products.create and inventory.adjust: what services
 * seed for themselves on an empty database, for one that is not. Idempotent.
 */
export async function seedDemoData(call: Call): Promise<SeedReport> {
	const before = await catalog(call);
	const skus = new Set(before.map(product => product.sku));
	const report: SeedReport = { products: { created: 0, existing: 0 }, stock: { seeded: 0, existing: 0, unitsEach: DEMO_UNITS } };
	for (const product of demoCatalog()) {
		if (skus.has(product.sku)) {
			report.products.existing++;
			continue;
		}
		try {
			await call("products.create", { ...product });
			report.products.created++;
		} catch (err) {
			if ((err as { type?: string }).type !== "CONFLICT") throw err;
			report.products.existing++; // created meanwhile by someone else
		}
	}
	const products = report.products.created > 0 ? await catalog(call) : before;
	const stocked = new Set((await everything<StockLevel>(call, "inventory.all")).map(level => level.productId));
	for (const product of products) {
		if (stocked.has(product.id)) {
			report.stock.existing++;
			continue;
		}
		// Sets (never adds to) the available units: a repeat after a race is a no-op.
		await call("inventory.adjust", { productId: product.id, available: DEMO_UNITS });
		report.stock.seeded++;
	}
	return report;
}

const productCount = (count: number) => `${count} product${count === 1 ? "" : "s"}`;

export function printSeed({ products: catalog, stock }: SeedReport): void {
	console.log(`Demo catalog: ${productCount(catalog.created)} created, ${catalog.existing} already there`);
	console.log(`Demo stock:   ${productCount(stock.seeded)} given ${stock.unitsEach} units, ${stock.existing} already had stock`);
}
