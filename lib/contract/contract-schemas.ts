// JSON Schemas of the response shapes in lib/contract/contract.ts, for the OpenAPI
// document. Kept beside the types they describe; the API fuzzing in CI checks
// every real response against them, so a drift between the two fails there.
type JsonSchema = Record<string, unknown>;

const string = { type: "string" } as const;
const count = { type: "integer", minimum: 0 } as const;
const cents = { type: "integer", minimum: 0, description: "An amount in minor units (cents)" } as const;
const currency = { type: "string", pattern: "^[A-Z]{3}$", description: "ISO 4217 code" } as const;
const timestamp = { type: "string", format: "date-time" } as const;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const oneOf = (...values: string[]) => ({ type: "string", enum: values });

/** An object whose listed properties are all required unless named in `optional`. */
function object(properties: Record<string, JsonSchema>, optional: string[] = []): JsonSchema {
	return { type: "object", properties, required: Object.keys(properties).filter(name => !optional.includes(name)) };
}

function page(item: string): JsonSchema {
	return object({
		rows: { type: "array", items: ref(item) },
		total: count,
		page: { type: "integer", minimum: 1 },
		pageSize: { type: "integer", minimum: 1 },
		totalPages: count,
	});
}

const lineItem = object({ productId: string, name: string, unitPrice: cents, quantity: { type: "integer", minimum: 1 } });
const orderStatus = oneOf("PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED");
const shipmentStatus = oneOf("CREATED", "SHIPPED", "DELIVERED", "CANCELLED");

export const CONTRACT_SCHEMAS = {
	Error: object({ name: string, message: string, code: { type: "integer", minimum: 400, maximum: 599 }, type: string, data: {} }, ["type", "data"]),
	User: object({
		id: string,
		email: string,
		name: string,
		roles: { type: "array", items: oneOf("customer", "admin") },
		createdAt: timestamp,
		updatedAt: timestamp,
	}),
	UserPage: page("User"),
	AuthResult: object({
		user: ref("User"),
		accessToken: string,
		refreshToken: string,
		expiresIn: { type: "integer", minimum: 1, description: "Seconds until the access token expires" },
	}),
	Product: object({
		id: string,
		sku: string,
		name: string,
		description: string,
		price: cents,
		currency,
		category: string,
		createdAt: timestamp,
		updatedAt: timestamp,
	}),
	ProductPage: page("Product"),
	Recommendations: object({ productId: string, items: { type: "array", items: object({ productId: string, score: { type: "number" } }) } }),
	Availability: object({ productId: string, available: count, reserved: count }),
	Cart: object({ items: { type: "array", items: lineItem }, subtotal: cents, currency }),
	Order: object(
		{
			id: string,
			userId: string,
			items: { type: "array", items: lineItem },
			subtotal: cents,
			shippingCost: cents,
			total: cents,
			currency,
			status: orderStatus,
			cancelReason: oneOf("PAYMENT_DECLINED", "OUT_OF_STOCK", "CUSTOMER_REQUEST", "PAYMENT_ERROR"),
			statusHistory: { type: "array", items: object({ status: orderStatus, at: timestamp }) },
			shippingAddress: object({ name: string, line1: string, line2: string, city: string, postalCode: string, country: string }, ["line2"]),
			payment: object({ status: oneOf("PENDING", "CAPTURED", "DECLINED", "FAILED", "REFUNDED"), brand: string, last4: string }),
			shipment: object({ carrier: string, trackingNumber: string, status: shipmentStatus }),
			createdAt: timestamp,
			updatedAt: timestamp,
		},
		["cancelReason", "shipment"],
	),
	OrderPage: page("Order"),
	Shipment: object({ orderId: string, userId: string, carrier: string, trackingNumber: string, status: shipmentStatus }),
	Notification: object(
		{
			id: string,
			userId: string,
			channel: oneOf("email", "sms"),
			to: string,
			template: string,
			subject: string,
			body: string,
			orderId: string,
			status: oneOf("PENDING", "SENT", "FAILED"),
			createdAt: timestamp,
		},
		["orderId"],
	),
	NotificationPage: page("Notification"),
	Liveness: object({ status: oneOf("ok") }),
	HealthReport: object({
		status: oneOf("ok", "degraded", "unavailable"),
		checks: { type: "object", additionalProperties: object({ ok: { type: "boolean" }, detail: string }, ["detail"]) },
	}),
	OpenApiDocument: { type: "object", required: ["openapi", "paths"] },
} satisfies Record<string, JsonSchema>;

export type ContractSchemaName = keyof typeof CONTRACT_SCHEMAS;
