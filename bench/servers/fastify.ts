// The same JSON on Fastify: a framework baseline.
import Fastify from "fastify";

const body = process.env.BENCH_BODY ?? "{}";
const app = Fastify({ logger: false });
app.get("/api/products", (_req, reply) => reply.type("application/json; charset=utf-8").send(body));
app.listen({ port: Number(process.env.PORT), host: "127.0.0.1" }).then(() => process.send?.({ ready: true }));
