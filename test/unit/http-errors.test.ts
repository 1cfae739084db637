import { Errors } from "moleculer";
import { toErrorResponse } from "../../services/api/http-errors";

describe("errors as clients see them", () => {
	it("maps an unreachable or circuit-broken service to 503", () => {
		for (const err of [
			new Errors.ServiceNotFoundError({ action: "products.list" }),
			new Errors.ServiceNotAvailableError({ action: "products.list", nodeID: "n1" }),
		]) {
			const { status, body } = toErrorResponse(err);
			expect(status).toBe(503);
			expect(body.type).toBe("SERVICE_UNAVAILABLE");
			expect(JSON.stringify(body)).not.toMatch(/products\.list|n1/);
		}
	});

	it("maps a call this node could not send, its transporter being disconnected, to 503", () => {
		// Its constructor takes no arguments (moleculer's typings say otherwise).
		const { status, body } = toErrorResponse(new (Errors.BrokerDisconnectedError as unknown as new () => Error)());
		expect([status, body.type]).toEqual([503, "SERVICE_UNAVAILABLE"]);
	});

	it("maps a request timeout, or a call skipped for lack of time, to 504", () => {
		expect(toErrorResponse(new Errors.RequestTimeoutError({ action: "x", nodeID: "n" })).status).toBe(504);
		expect(toErrorResponse(new Errors.RequestSkippedError({ action: "x", nodeID: "n" })).body).toMatchObject({ code: 504, type: "REQUEST_TIMEOUT" });
	});

	it("maps a call whose node left the cluster before answering to 503", () => {
		const { status, body } = toErrorResponse(new Errors.RequestRejectedError({ action: "products.create", nodeID: "products-2" }));
		expect([status, body.type]).toEqual([503, "SERVICE_UNAVAILABLE"]);
		expect(JSON.stringify(body)).not.toMatch(/products/);
	});

	it("keeps client errors as they are, with their data", () => {
		const { status, body } = toErrorResponse(new Errors.MoleculerClientError("Exists", 409, "CONFLICT", { fields: ["sku"] }));
		expect(status).toBe(409);
		expect(body).toEqual({ name: "MoleculerClientError", message: "Exists", code: 409, type: "CONFLICT", data: { fields: ["sku"] } });
	});

	it("keeps the field of a validation error but not where it was raised nor the rejected value", () => {
		const err = new Errors.ValidationError("bad", "VALIDATION_ERROR", [
			{ field: "pageSize", type: "numberMax", message: "m", actual: "hunter2", nodeID: "n1", action: "products.list" },
		]);
		expect(toErrorResponse(err).body.data).toEqual([{ field: "pageSize", type: "numberMax", message: "m" }]);
	});

	it("hides unexpected server errors and anything that is not an error", () => {
		for (const err of [new Error("ECONNRESET at 10.0.0.5"), new Errors.MoleculerServerError("stack", 500, "WHATEVER"), "a string", null]) {
			expect(toErrorResponse(err)).toEqual({
				status: 500,
				body: { name: "InternalServerError", message: expect.any(String), code: 500, type: "INTERNAL" },
			});
		}
	});

	it("maps body-parser failures to 400 and 413", () => {
		expect(toErrorResponse({ type: "entity.parse.failed", status: 400, message: "Unexpected token" }).status).toBe(400);
		expect(toErrorResponse({ type: "entity.too.large", status: 413 }).status).toBe(413);
		expect(toErrorResponse({ type: "charset.unsupported", status: 415, message: "unsupported charset" }).status).toBe(415);
	});
});
