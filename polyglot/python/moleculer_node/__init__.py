"""A Moleculer node in Python: joins a cluster of Moleculer (0.15, protocol 5)
nodes over NATS with the JSON serializer, serves actions and events."""

from .broker import Action, Context, Event, Service, ServiceBroker, servers_of
from .errors import MoleculerClientError, MoleculerError, ValidationError
from .tls import nats_tls

__all__ = ["Action", "Context", "Event", "Service", "ServiceBroker", "MoleculerError", "MoleculerClientError", "ValidationError", "nats_tls", "servers_of"]
