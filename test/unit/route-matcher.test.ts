// The front door's route matching: it must name the same route moleculer-web
// would, or refuse (404) what moleculer-web would have refused.
import { RouteMatcher } from "../../services/api/route-matcher";

const matcher = new RouteMatcher([
	{
		path: "/api",
		authentication: true,
		aliases: { "GET products": "products.list", "GET products/:id": "products.get", "POST orders/:id/cancel": "orders.cancel" },
	},
	{ path: "/docs", aliases: { "GET /": "api.docs", "GET :file": "api.docsFile" } },
]);

describe("RouteMatcher", () => {
	it.each([
		["GET", "/api/products", "products.list"],
		["GET", "/api/products?pageSize=4&q=a/b", "products.list"],
		["GET", "/api/products/", "products.list"],
		["GET", "/API/Products", "products.list"],
		["GET", "/api/products/Abc-123", "products.get"],
		["POST", "/api/orders/o1/cancel", "orders.cancel"],
		["GET", "/docs", "api.docs"],
		["GET", "/docs/", "api.docs"],
		["GET", "/docs/swagger-ui.css", "api.docsFile"],
	])("%s %s is %s", (method, url, action) => {
		expect(matcher.match(method, url)?.action).toBe(action);
	});

	it("says which routes authenticate and count against the rate limit", () => {
		expect(matcher.match("GET", "/api/products")?.api).toBe(true);
		expect(matcher.match("GET", "/docs")?.api).toBe(false);
	});

	it.each([
		["POST", "/api/products"],
		["HEAD", "/api/products"],
		["GET", "/api"],
		["GET", "/api//products"],
		["GET", "//api/products"],
		["GET", "/api/products//"],
		["GET", "/api/products/1/2"],
		["GET", "/api/orders/o1/cancel"],
		["GET", "/"],
		["GET", ""],
		[undefined, "/api/products"],
	])("%s %s is no route", (method, url) => {
		expect(matcher.match(method, url)).toBeUndefined();
	});
});
