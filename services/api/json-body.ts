// The /api route's JSON body reader: body-parser, with its errors handed on
// as Moleculer client errors. moleculer-web's own wrapper keeps an error's
// `code` over its `status`, so a body its Content-Encoding did not describe
// (zlib's code "Z_DATA_ERROR") came out as a 500 logged with a stack.
import type { IncomingMessage, ServerResponse } from "node:http";
import bodyParser, { type OptionsJson } from "body-parser";
import { Errors } from "moleculer";
import { ErrorTypes } from "../../lib/contract/contract";

interface ReadError {
	message?: string;
	status?: number;
	/** body-parser's own: entity.parse.failed, entity.too.large, encoding.unsupported, ... */
	type?: string;
}

function clientError(err: ReadError): Errors.MoleculerClientError {
	const status = typeof err.status === "number" && err.status >= 400 && err.status < 500 ? err.status : 400;
	const error = err.type
		? new Errors.MoleculerClientError(err.message ?? "Bad request", status, err.type)
		: new Errors.MoleculerClientError("The request body could not be read as sent (check Content-Encoding)", status, ErrorTypes.INVALID_BODY);
	error.name = "BadRequestError";
	return error;
}

export function jsonBody(options: OptionsJson): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
	const parse = bodyParser.json(options);
	return (req, res, next) => parse(req, res, (err?: unknown) => next(err ? clientError(err as ReadError) : undefined));
}
