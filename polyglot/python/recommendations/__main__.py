"""Run a recommendations node: `python -m recommendations` with TRANSPORTER
(nats:// or tls://..., comma-separated for a NATS cluster), NAMESPACE, and optionally NODEID
and NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY from the environment."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from moleculer_node import ServiceBroker, nats_tls, servers_of

from .model import BoughtTogether
from .service import follow_confirmed_orders, recommendations_service


async def main() -> None:
    transporter = os.environ.get("TRANSPORTER", "")
    servers = servers_of(transporter)
    if not servers or not all(server.startswith(("nats://", "tls://")) for server in servers):
        raise SystemExit("TRANSPORTER must be a nats:// or tls:// URL, or several comma-separated: the Python node joins a cluster over NATS")
    try:
        tls = nats_tls(os.environ, transporter)
    except ValueError as error:
        raise SystemExit(str(error)) from error
    broker = ServiceBroker(transporter, namespace=os.environ.get("NAMESPACE", "shop"), node_id=os.environ.get("NODEID") or None, tls=tls)
    model = BoughtTogether()
    broker.add_service(recommendations_service(model, broker.node_id))
    await broker.start()
    follower = asyncio.create_task(follow_confirmed_orders(broker, model))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    follower.cancel()
    await broker.stop()


if __name__ == "__main__":
    logging.basicConfig(level=os.environ.get("LOGLEVEL", "info").upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(main())
