"""The Moleculer transit protocol (version 5) over NATS with JSON packets.

Topics are `MOL-<namespace>.<CMD>` (broadcast) and `MOL-<namespace>.<CMD>.<nodeID>`
(targeted). This node announces its services with INFO, answers DISCOVER,
REQ (with RES), targeted EVENTs (the sender already balanced them over the
event's group), PING (with PONG), sends HEARTBEAT every few seconds and
DISCONNECT when it stops. The TypeScript brokers do the balancing: they send
a request to the node they picked, so nothing here needs a registry of
other nodes to serve.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import socket
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from .errors import MoleculerError, error_payload
from .validation import Rule, validate

PROTOCOL_VERSION = "5"
HEARTBEAT_INTERVAL_S = 5

log = logging.getLogger("moleculer_node")


@dataclass
class Context:
    """What a handler gets: params and meta of the call, and who made it."""

    params: dict[str, Any]
    meta: dict[str, Any]
    caller_node: str
    request_id: str | None = None


Handler = Callable[[Context], Awaitable[Any]]


@dataclass
class Action:
    handler: Handler
    params: dict[str, Rule] | None = None


@dataclass
class Event:
    handler: Handler
    group: str | None = None


@dataclass
class Service:
    name: str
    actions: dict[str, Action] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fullName": self.name,
            "settings": {},
            "metadata": {},
            "actions": {
                f"{self.name}.{raw}": {"name": f"{self.name}.{raw}", "rawName": raw, **({"params": a.params} if a.params else {})}
                for raw, a in self.actions.items()
            },
            "events": {name: {"name": name, "group": e.group or self.name} for name, e in self.events.items()},
        }


def servers_of(transporter: str) -> list[str]:
    """`nats://a:4222,nats://b:4222` -> the list of server URLs."""
    return [server.strip() for server in transporter.split(",") if server.strip()]


class ServiceBroker:
    def __init__(self, transporter: str, namespace: str = "", node_id: str | None = None, tls: ssl.SSLContext | None = None):
        # One server, or a NATS cluster as a comma-separated list, as TRANSPORTER is for the TypeScript nodes.
        self.servers = servers_of(transporter)
        self.tls = tls  # from nats_tls(): verifies the server, and carries this node's certificate for mutual TLS
        self.namespace = namespace
        self.node_id = node_id or f"{socket.gethostname()}-py-{os.getpid()}"
        self.prefix = "MOL" + (f"-{namespace}" if namespace else "")
        self.instance_id = str(uuid.uuid4())
        self.services: list[Service] = []
        self.nc: NATS | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    # --- services ---

    def add_service(self, service: Service) -> None:
        self.services.append(service)

    def _action(self, full_name: str) -> Action | None:
        service_name, _, raw = full_name.rpartition(".")
        for service in self.services:
            if service.name == service_name and raw in service.actions:
                return service.actions[raw]
        return None

    # --- lifecycle ---

    async def start(self) -> None:
        # Starts at a random server of the list and moves to another when it is lost (nats-py's default, as nats.js).
        self.nc = await nats.connect(servers=self.servers, max_reconnect_attempts=-1, reconnect_time_wait=0.5, name=self.node_id, tls=self.tls)
        handlers = {
            "REQ": self._on_request,
            "EVENT": self._on_event,
            "DISCOVER": self._on_discover,
            "PING": self._on_ping,
            "INFO": self._ignore,
            "HEARTBEAT": self._ignore,
            "DISCONNECT": self._ignore,
            "RES": self._ignore,
            "PONG": self._ignore,
        }
        for cmd, handler in handlers.items():
            await self.nc.subscribe(self._topic(cmd, self.node_id), cb=self._guard(handler))
        for cmd in ("DISCOVER", "INFO", "HEARTBEAT", "DISCONNECT", "PING"):
            await self.nc.subscribe(self._topic(cmd), cb=self._guard(handlers[cmd]))
        await self.nc.flush()
        await self._publish("DISCOVER", {})  # others answer with INFO; we learn nothing we need, but it is the handshake
        await self._publish("INFO", self._info())
        self._heartbeat = asyncio.create_task(self._beat())
        log.info("node %s joined namespace %r with %s", self.node_id, self.namespace, [s.name for s in self.services])

    async def stop(self) -> None:
        if self._heartbeat:
            self._heartbeat.cancel()
        if self.nc and self.nc.is_connected:
            await self._publish("DISCONNECT", {})
            if self._inflight:
                await asyncio.wait(self._inflight, timeout=5)
            await self.nc.drain()

    # --- packets ---

    def _topic(self, cmd: str, node_id: str | None = None) -> str:
        return f"{self.prefix}.{cmd}" + (f".{node_id}" if node_id else "")

    async def _publish(self, cmd: str, payload: dict[str, Any], target: str | None = None) -> None:
        assert self.nc is not None
        body = {**payload, "ver": PROTOCOL_VERSION, "sender": self.node_id}
        await self.nc.publish(self._topic(cmd, target), json.dumps(body, separators=(",", ":")).encode())

    def _info(self) -> dict[str, Any]:
        return {
            "services": [s.info() for s in self.services],
            "ipList": [],
            "hostname": socket.gethostname(),
            "client": {"type": "python", "version": "0.1.0", "langVersion": platform.python_version()},
            "config": {},
            "instanceID": self.instance_id,
            "metadata": {},
            "seq": 1,
        }

    def _guard(self, handler: Callable[[dict[str, Any]], Awaitable[None]]) -> Callable[[Msg], Awaitable[None]]:
        """Decodes a packet and runs its handler off the subscription's loop."""

        async def on_message(msg: Msg) -> None:
            try:
                packet = json.loads(msg.data)
            except ValueError:
                log.warning("undecodable packet on %s", msg.subject)
                return
            if packet.get("ver") != PROTOCOL_VERSION:
                log.warning("protocol %r from %s ignored (we speak %s)", packet.get("ver"), packet.get("sender"), PROTOCOL_VERSION)
                return
            if packet.get("sender") == self.node_id:
                return
            task = asyncio.create_task(handler(packet))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

        return on_message

    async def _ignore(self, _packet: dict[str, Any]) -> None:
        return None

    async def _on_discover(self, packet: dict[str, Any]) -> None:
        await self._publish("INFO", self._info(), target=packet["sender"])

    async def _on_ping(self, packet: dict[str, Any]) -> None:
        await self._publish("PONG", {"time": packet.get("time"), "id": packet.get("id"), "arrived": int(time.time() * 1000)}, target=packet["sender"])

    async def _on_request(self, packet: dict[str, Any]) -> None:
        sender, request_id = packet["sender"], packet["id"]
        meta = packet.get("meta") or {}
        response: dict[str, Any] = {"id": request_id, "meta": meta, "headers": {}}
        try:
            action = self._action(packet["action"])
            if action is None:
                raise MoleculerError(f"Service '{packet['action']}' is not found.", 404, "SERVICE_NOT_FOUND", {"action": packet["action"]}, retryable=True)
            params = packet.get("params") or {}
            if action.params:
                params = validate(action.params, params)
            ctx = Context(params=params, meta=meta, caller_node=sender, request_id=packet.get("requestID"))
            response.update(success=True, data=await action.handler(ctx))
        except Exception as err:  # every failure goes back to the caller, in Moleculer's shape
            if not hasattr(err, "code"):
                log.exception("action %s failed", packet.get("action"))
            response.update(success=False, data=None, error=error_payload(err, self.node_id))
        await self._publish("RES", response, target=sender)

    async def _on_event(self, packet: dict[str, Any]) -> None:
        name = packet.get("event")
        groups = packet.get("groups")
        for service in self.services:
            event = service.events.get(name or "")
            if event is None:
                continue
            if groups and (event.group or service.name) not in groups:
                continue
            try:
                await event.handler(Context(params=packet.get("data") or {}, meta=packet.get("meta") or {}, caller_node=packet["sender"]))
            except Exception:
                log.exception("event %s handler failed", name)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_INTERVAL_S)
            try:
                await self._publish("HEARTBEAT", {"cpu": 0})
            except Exception as err:  # NATS may be reconnecting; the next beat tries again
                log.warning("heartbeat not sent: %s", err)
