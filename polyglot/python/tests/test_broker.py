"""The node against a real nats-server, talked to the way a TypeScript
Moleculer 0.15 node talks: JSON packets, protocol 5, MOL-<ns>.<CMD>[.<node>]."""

import asyncio
import json
import socket
import uuid
from urllib.parse import urlparse

import nats
import pytest

from moleculer_node import Action, Context, Event, MoleculerClientError, Service, ServiceBroker

NS = f"pytest{uuid.uuid4().hex[:8]}"


def run(coro):
    return asyncio.run(coro)


class FakeTsNode:
    """A raw NATS client posing as a TypeScript node called 'ts1'."""

    def __init__(self, url: str, tls=None):
        self.url = url
        self.tls = tls
        self.inbox: asyncio.Queue = asyncio.Queue()

    async def __aenter__(self):
        self.nc = await nats.connect(self.url, tls=self.tls)
        async def collect(msg):
            self.inbox.put_nowait((msg.subject, json.loads(msg.data)))

        for topic in (f"MOL-{NS}.INFO", f"MOL-{NS}.INFO.ts1", f"MOL-{NS}.RES.ts1", f"MOL-{NS}.PONG.ts1", f"MOL-{NS}.DISCONNECT", f"MOL-{NS}.HEARTBEAT"):
            await self.nc.subscribe(topic, cb=collect)
        await self.nc.flush()
        return self

    async def __aexit__(self, *exc):
        await self.nc.drain()

    async def send(self, cmd: str, target: str | None, payload: dict):
        topic = f"MOL-{NS}.{cmd}" + (f".{target}" if target else "")
        await self.nc.publish(topic, json.dumps({**payload, "ver": "5", "sender": "ts1"}).encode())

    async def expect(self, subject_suffix: str, timeout: float = 3.0) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            subject, packet = await asyncio.wait_for(self.inbox.get(), deadline - asyncio.get_running_loop().time())
            if subject.endswith(subject_suffix):
                return packet

    async def call(self, node: str, action: str, params: dict) -> dict:
        request_id = str(uuid.uuid4())
        await self.send("REQ", node, {"id": request_id, "action": action, "params": params, "meta": {"user": {"id": "u1"}}, "headers": {}, "timeout": 0, "level": 1, "tracing": None, "parentID": None, "requestID": request_id, "caller": None, "stream": False})
        response = await self.expect(".RES.ts1")
        assert response["id"] == request_id
        return response


def greeter(events: list) -> Service:
    async def hello(ctx: Context):
        return {"greeting": f"hello {ctx.params['name']}", "user": ctx.meta.get("user")}

    async def missing(_ctx: Context):
        raise MoleculerClientError("No such thing", 404, "NOT_FOUND", {"id": "x"})

    async def broken(_ctx: Context):
        raise RuntimeError("secret internals at /srv/db")

    async def on_order(ctx: Context):
        events.append(ctx.params)

    return Service(
        name="greeter",
        actions={"hello": Action(hello, params={"name": {"type": "string", "min": 1}}), "missing": Action(missing), "broken": Action(broken)},
        events={"order.confirmed": Event(on_order, group="greeter")},
    )


async def started_node(url: str, events: list) -> ServiceBroker:
    broker = ServiceBroker(url, namespace=NS, node_id="py1")
    broker.add_service(greeter(events))
    await broker.start()
    return broker


def test_announces_its_services_and_answers_discover(nats_url):
    async def scenario():
        async with FakeTsNode(nats_url) as ts:
            broker = await started_node(nats_url, [])
            info = await ts.expect(".INFO")
            assert info["ver"] == "5" and info["sender"] == "py1"
            assert info["client"]["type"] == "python"
            actions = info["services"][0]["actions"]
            assert set(actions) == {"greeter.hello", "greeter.missing", "greeter.broken"}
            assert info["services"][0]["events"]["order.confirmed"]["group"] == "greeter"
            await ts.send("DISCOVER", "py1", {})
            assert (await ts.expect(".INFO.ts1"))["sender"] == "py1"
            await broker.stop()
            assert (await ts.expect(".DISCONNECT"))["sender"] == "py1"

    run(scenario())


def test_answers_requests_and_reports_errors_in_moleculer_shape(nats_url):
    async def scenario():
        async with FakeTsNode(nats_url) as ts:
            broker = await started_node(nats_url, [])
            try:
                ok = await ts.call("py1", "greeter.hello", {"name": "ada"})
                assert ok["success"] is True
                assert ok["data"] == {"greeting": "hello ada", "user": {"id": "u1"}}

                invalid = await ts.call("py1", "greeter.hello", {"name": ""})
                assert invalid["success"] is False
                assert invalid["error"]["code"] == 422 and invalid["error"]["name"] == "ValidationError"
                assert invalid["error"]["data"][0]["field"] == "name"

                missing = await ts.call("py1", "greeter.missing", {})
                assert missing["error"] == {"name": "MoleculerClientError", "message": "No such thing", "code": 404, "type": "NOT_FOUND", "data": {"id": "x"}, "retryable": False, "nodeID": "py1"}

                broken = await ts.call("py1", "greeter.broken", {})
                assert broken["error"]["code"] == 500
                assert "secret" not in json.dumps(broken["error"])

                unknown = await ts.call("py1", "greeter.nope", {})
                assert unknown["error"]["type"] == "SERVICE_NOT_FOUND"
            finally:
                await broker.stop()

    run(scenario())


def test_handles_events_of_its_group_only_and_answers_ping(nats_url):
    async def scenario():
        events: list = []
        async with FakeTsNode(nats_url) as ts:
            broker = await started_node(nats_url, events)
            try:
                base = {"event": "order.confirmed", "broadcast": False, "meta": {}, "headers": {}, "level": 1}
                await ts.send("EVENT", "py1", {**base, "id": "e1", "data": {"orderId": "o1"}, "groups": ["greeter"]})
                await ts.send("EVENT", "py1", {**base, "id": "e2", "data": {"orderId": "o2"}, "groups": ["someone-else"]})
                await ts.send("PING", "py1", {"time": 123, "id": "p1"})
                pong = await ts.expect(".PONG.ts1")
                assert pong["id"] == "p1" and pong["time"] == 123
                await asyncio.sleep(0.2)
                assert events == [{"orderId": "o1"}]
            finally:
                await broker.stop()

    run(scenario())


def test_ignores_packets_of_another_protocol_version(nats_url):
    async def scenario():
        async with FakeTsNode(nats_url) as ts:
            broker = await started_node(nats_url, [])
            try:
                await ts.nc.publish(f"MOL-{NS}.REQ.py1", json.dumps({"ver": "4", "sender": "ts1", "id": "old", "action": "greeter.hello", "params": {"name": "x"}}).encode())
                with pytest.raises(asyncio.TimeoutError):
                    await ts.expect(".RES.ts1", timeout=0.5)
            finally:
                await broker.stop()

    run(scenario())


def dead_server() -> str:
    """A loopback URL nothing listens on: the port of a socket just closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"nats://127.0.0.1:{probe.getsockname()[1]}"


def test_joins_through_a_comma_separated_server_list_whose_first_servers_are_down(nats_url):
    async def scenario():
        async with FakeTsNode(nats_url) as ts:
            # As TRANSPORTER lists a NATS cluster, two of its servers dead: the node must find the live one.
            broker = ServiceBroker(f"{dead_server()}, {dead_server()},{nats_url}", namespace=NS, node_id="py1")
            broker.add_service(greeter([]))
            await asyncio.wait_for(broker.start(), timeout=10)
            try:
                assert broker.nc is not None and broker.nc.connected_url.port == urlparse(nats_url).port
                assert (await ts.call("py1", "greeter.hello", {"name": "ada"}))["data"]["greeting"] == "hello ada"
            finally:
                await broker.stop()

    run(scenario())
