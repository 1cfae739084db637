import os
import socket
from urllib.parse import urlparse

import pytest

NATS_URL = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 4222), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def nats_url() -> str:
    """The real nats-server; missing, it skips loudly, or fails with REQUIRE_INFRA=1."""
    if not _reachable(NATS_URL):
        message = f"nats-server not reachable at {NATS_URL} (start it with: npm run infra:up)"
        if os.environ.get("REQUIRE_INFRA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return NATS_URL
