// The ceiling for one Node process: a bare http server answering BENCH_BODY.
import http from "node:http";

const body = Buffer.from(process.env.BENCH_BODY ?? "{}");
http.createServer((_req, res) => {
	res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": body.length });
	res.end(body);
}).listen(Number(process.env.PORT), "127.0.0.1", () => process.send?.({ ready: true }));
