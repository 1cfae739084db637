// The public contract (docs/architecture.md, "The REST contract"): the shapes
// the gateway returns, the services produce and the tests assert on.
// Everything here is plain data.

/** Money is an integer number of minor units (cents) with an ISO 4217 code. */
export type Cents = number;
export type CurrencyCode = string;

export interface Page<T> {
	rows: T[];
	total: number;
	page: number;
	pageSize: number;
	totalPages: number;
}

/** moleculer-web's error body: `{ name, message, code, type, data }`. */
export interface ErrorBody {
	name: string;
	message: string;
	code: number;
	type?: string;
	data?: unknown;
}

export interface Product {
	id: string;
	sku: string;
	name: string;
	description: string;
	price: Cents;
	currency: CurrencyCode;
	category: string;
	createdAt: string;
	updatedAt: string;
}

export type NewProduct = Omit<Product, "id" | "createdAt" | "updatedAt">;
export type ProductChanges = Partial<NewProduct>;

export const PRODUCT_SORTS = ["name", "-name", "price", "-price", "createdAt", "-createdAt"] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

export interface ProductQuery {
	q?: string;
	category?: string;
	minPrice?: Cents;
	maxPrice?: Cents;
	sort?: ProductSort;
	page?: number;
	pageSize?: number;
}

export const MAX_PAGE_SIZE = 100;

export type Role = "customer" | "admin";

/** What the gateway puts in ctx.meta.user for every downstream call. */
export interface AuthUser {
	id: string;
	email: string;
	roles: Role[];
}

export interface User extends AuthUser {
	name: string;
	createdAt: string;
	updatedAt: string;
}

export interface AuthResult {
	user: User;
	accessToken: string;
	refreshToken: string;
	/** Seconds until the access token expires. */
	expiresIn: number;
}

/** Who may call an action from HTTP: anyone, any signed-in user, or admins. */
export type Access = "public" | "user" | "admin";

export interface UserRegistered {
	factId: string;
	userId: string;
	email: string;
	name: string;
}

/**
 * What anyone may see of a node's readiness: no node id, no service or database
 * names. "degraded" is ready (200) with an optional check failing (the cache).
 */
export interface HealthReport {
	status: "ok" | "degraded" | "unavailable";
	checks: Record<string, { ok: boolean; detail?: string }>;
}

/** Stable error types a client can act on. */
export const ErrorTypes = {
	SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
	DATABASE_UNAVAILABLE: "DATABASE_UNAVAILABLE",
	CONFLICT: "CONFLICT",
	NOT_FOUND: "NOT_FOUND",
	INVALID_JSON: "INVALID_JSON",
	INVALID_BODY: "INVALID_BODY",
	PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
	RATE_LIMITED: "RATE_LIMITED",
	INTERNAL: "INTERNAL",
	INVALID_CREDENTIALS: "INVALID_CREDENTIALS",
	INVALID_TOKEN: "INVALID_TOKEN",
	TOO_MANY_ATTEMPTS: "TOO_MANY_ATTEMPTS",
	FORBIDDEN: "FORBIDDEN",
	UNAUTHORIZED: "UNAUTHORIZED",
} as const;

// --- Commerce (docs/architecture.md, "Services and data ownership" and "Checkout saga") ---

export interface LineItem {
	productId: string;
	name: string;
	unitPrice: Cents;
	quantity: number;
}

export interface Cart {
	items: LineItem[];
	subtotal: Cents;
	currency: CurrencyCode;
}

export interface Availability {
	productId: string;
	available: number;
	reserved: number;
}

export interface StockLevel extends Availability {
	sold: number;
	/** Everything ever put into stock: available + reserved + sold always equals it. */
	received: number;
}

export type OrderStatus = "PENDING" | "CONFIRMED" | "SHIPPED" | "DELIVERED" | "CANCELLED";
export type CancelReason = "PAYMENT_DECLINED" | "OUT_OF_STOCK" | "CUSTOMER_REQUEST" | "PAYMENT_ERROR";
export type PaymentStatus = "PENDING" | "CAPTURED" | "DECLINED" | "FAILED" | "REFUNDED";
export type ShipmentStatus = "CREATED" | "SHIPPED" | "DELIVERED" | "CANCELLED";

export interface Address {
	name: string;
	line1: string;
	line2?: string;
	city: string;
	postalCode: string;
	country: string;
}

export interface Card {
	number: string;
	expMonth: number;
	expYear: number;
	cvc: string;
}

export interface Order {
	id: string;
	userId: string;
	items: LineItem[];
	subtotal: Cents;
	shippingCost: Cents;
	total: Cents;
	currency: CurrencyCode;
	status: OrderStatus;
	cancelReason?: CancelReason;
	statusHistory: { status: OrderStatus; at: string }[];
	shippingAddress: Address;
	payment: { status: PaymentStatus; brand: string; last4: string };
	shipment?: { carrier: string; trackingNumber: string; status: ShipmentStatus };
	createdAt: string;
	updatedAt: string;
}

export interface Payment {
	orderId: string;
	amount: Cents;
	currency: CurrencyCode;
	status: PaymentStatus;
	brand: string;
	last4: string;
	declineReason?: string;
}

export interface Shipment {
	orderId: string;
	userId: string;
	carrier: string;
	trackingNumber: string;
	status: ShipmentStatus;
}

export interface Notification {
	id: string;
	userId: string;
	channel: "email" | "sms";
	to: string;
	template: string;
	subject: string;
	body: string;
	orderId?: string;
	status: "PENDING" | "SENT" | "FAILED";
	createdAt: string;
}

/** Facts on @moleculer/channels. Every fact carries its id: consumers de-duplicate on it. */
export interface FactBase {
	factId: string;
}
export interface OrderFact extends FactBase {
	orderId: string;
	userId: string;
	email: string;
	total: Cents;
	currency: CurrencyCode;
}
export interface OrderConfirmed extends OrderFact {
	shippingAddress: Address;
	items: { productId: string; quantity: number }[];
}

/** What the recommendations service (Python) answers. */
export interface Recommendations {
	productId: string;
	items: { productId: string; score: number }[];
}
export interface OrderCancelled extends OrderFact {
	reason: CancelReason;
}
export interface ShipmentFact extends FactBase {
	orderId: string;
	userId: string;
	email: string;
	carrier: string;
	trackingNumber: string;
	status: ShipmentStatus;
}

export const Channels = {
	USER_REGISTERED: "user.registered",
	ORDER_CONFIRMED: "order.confirmed",
	ORDER_CANCELLED: "order.cancelled",
	SHIPMENT_CREATED: "shipment.created",
	SHIPMENT_SHIPPED: "shipment.shipped",
	SHIPMENT_DELIVERED: "shipment.delivered",
	SHIPMENT_CANCELLED: "shipment.cancelled",
} as const;
