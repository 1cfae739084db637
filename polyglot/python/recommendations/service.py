"""The `recommendations` Moleculer service.

It learns from the `order.confirmed` fact. Facts travel on JetStream (the
TypeScript nodes publish them with @moleculer/channels to the subject
`<namespace>.order.confirmed`, stream `<namespace>_order_confirmed`). Every
Python node reads the whole stream with an ordered consumer from the start,
so each node holds the full model and a new node catches up by itself: the
state lives in JetStream, the node stays stateless.
"""

from __future__ import annotations

import asyncio
import json
import logging

from nats.js.api import DeliverPolicy

from moleculer_node import Action, Context, Service, ServiceBroker

from .model import BoughtTogether

log = logging.getLogger("recommendations")


def recommendations_service(model: BoughtTogether, node_id: str) -> Service:
    served = {"count": 0}

    async def for_product(ctx: Context) -> dict[str, object]:
        served["count"] += 1
        return {"productId": ctx.params["productId"], "items": model.for_product(ctx.params["productId"], ctx.params["limit"])}

    async def stats(_ctx: Context) -> dict[str, object]:
        return {"nodeID": node_id, "served": served["count"], "orders": model.orders}

    return Service(
        name="recommendations",
        actions={
            "forProduct": Action(
                for_product,
                params={
                    "productId": {"type": "string", "min": 1, "max": 64},
                    "limit": {"type": "number", "integer": True, "min": 1, "max": 20, "convert": True, "default": 5},
                },
            ),
            "stats": Action(stats),
        },
    )


async def follow_confirmed_orders(broker: ServiceBroker, model: BoughtTogether) -> None:
    """Subscribes (retrying until the stream exists) and feeds every confirmed order to the model."""
    assert broker.nc is not None
    js = broker.nc.jetstream()
    subject = f"{broker.namespace}.order.confirmed" if broker.namespace else "order.confirmed"

    async def on_fact(msg) -> None:  # type: ignore[no-untyped-def]
        try:
            fact = json.loads(msg.data)
            model.learn(fact["orderId"], [item["productId"] for item in fact.get("items", [])])
        except (ValueError, KeyError, TypeError):
            log.warning("malformed order.confirmed fact skipped")

    while True:
        try:
            await js.subscribe(subject, cb=on_fact, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
            log.info("following %s", subject)
            return
        except Exception as err:  # the stream appears once a TypeScript consumer has started
            log.info("waiting for stream of %s: %s", subject, err)
            await asyncio.sleep(2)
