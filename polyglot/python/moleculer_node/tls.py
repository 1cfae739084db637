"""TLS to NATS from NATS_TLS_CA, NATS_TLS_CERT and NATS_TLS_KEY, by the
TypeScript nodes' rules (lib/platform/env.ts, lib/platform/nats-options.ts):
the CA verifies the server (else the system's roots), the certificate and
key, set together, are this node's for mutual TLS, and a file that is
missing or unreadable stops start-up naming its variable."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping

from .broker import servers_of


def _readable_file(environ: Mapping[str, str], name: str) -> str | None:
    file = (environ.get(name) or "").strip()
    if not file:
        return None
    if not os.path.isfile(file):
        raise ValueError(f'{name} must name an existing file, got "{file}"')
    if not os.access(file, os.R_OK):
        raise ValueError(f'{name} names "{file}", which this process may not read')
    return file


def nats_tls(environ: Mapping[str, str], transporter: str) -> ssl.SSLContext | None:
    """The context for nats-py's `tls=`; None when neither files nor a tls:// URL ask for TLS
    (nats-py still upgrades when the server asks, with the system's roots)."""
    has_cert = bool((environ.get("NATS_TLS_CERT") or "").strip())
    if has_cert != bool((environ.get("NATS_TLS_KEY") or "").strip()):
        raise ValueError(f"NATS_TLS_CERT and NATS_TLS_KEY go together: {'NATS_TLS_KEY' if has_cert else 'NATS_TLS_CERT'} is not set")
    ca, cert, key = (_readable_file(environ, name) for name in ("NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY"))
    if not ca and not cert and not any(server.startswith("tls://") for server in servers_of(transporter)):
        return None
    try:
        context = ssl.create_default_context(cafile=ca)
    except ssl.SSLError as error:
        raise ValueError(f'NATS_TLS_CA names "{ca}", which is not a PEM certificate: {error}') from error
    if cert and key:
        try:
            context.load_cert_chain(cert, key)
        except ssl.SSLError as error:
            raise ValueError(f'NATS_TLS_CERT and NATS_TLS_KEY ("{cert}", "{key}") are not a PEM certificate and its key: {error}') from error
    return context
