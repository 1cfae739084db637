// The demo catalog seeded in embedded and development modes: 60 products in
// six categories, deterministic so docs and tests can name them.
import type { NewProduct } from "../../lib/contract/contract";

const CATEGORIES: Record<string, { code: string; items: string[]; basePrice: number }> = {
	electronics: {
		code: "ELEC",
		basePrice: 2999,
		items: [
			"Wireless Earbuds",
			"USB-C Charger",
			"Bluetooth Speaker",
			"Smart Watch",
			"Power Bank",
			"Webcam",
			"Mechanical Keyboard",
			"Wireless Mouse",
			"Portable SSD",
			"Noise Cancelling Headphones",
		],
	},
	books: {
		code: "BOOK",
		basePrice: 1299,
		items: [
			"Distributed Systems Primer",
			"The Pragmatic Shopkeeper",
			"TypeScript in Depth",
			"Designing Data Pipelines",
			"Node.js Patterns",
			"Cooking for Engineers",
			"A Short History of Money",
			"Microservices in Practice",
			"The Message Broker",
			"Resilient Architecture",
		],
	},
	kitchen: {
		code: "KITC",
		basePrice: 1899,
		items: [
			"Chef Knife",
			"Cast Iron Skillet",
			"French Press",
			"Cutting Board",
			"Espresso Cups",
			"Stand Mixer",
			"Kitchen Scale",
			"Spice Rack",
			"Tea Kettle",
			"Salad Spinner",
		],
	},
	outdoor: {
		code: "OUTD",
		basePrice: 3499,
		items: [
			"Camping Tent",
			"Trail Backpack",
			"Sleeping Bag",
			"Headlamp",
			"Water Filter",
			"Hiking Poles",
			"Camp Stove",
			"Insulated Bottle",
			"Rain Jacket",
			"Folding Chair",
		],
	},
	toys: {
		code: "TOYS",
		basePrice: 999,
		items: ["Building Blocks", "Puzzle Cube", "Wooden Train", "Kite", "Board Game", "Plush Bear", "Remote Control Car", "Art Set", "Marble Run", "Yo-Yo"],
	},
	apparel: {
		code: "APPA",
		basePrice: 2499,
		items: [
			"Cotton T-Shirt",
			"Denim Jacket",
			"Wool Socks",
			"Running Shoes",
			"Baseball Cap",
			"Hoodie",
			"Leather Belt",
			"Scarf",
			"Rain Boots",
			"Fleece Vest",
		],
	},
};

export function demoCatalog(): NewProduct[] {
	return Object.entries(CATEGORIES).flatMap(([category, { code, items, basePrice }]) =>
		items.map((name, i) => ({
			sku: `${code}-${String(i + 1).padStart(3, "0")}`,
			name,
			description: `${name} from the demo ${category} catalog.`,
			// Spread prices so range filters and sorting have something to do.
			price: basePrice + i * 500 + (i % 3) * 99,
			currency: "USD",
			category,
		})),
	);
}
