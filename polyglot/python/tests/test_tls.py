"""The node against a nats-server of this test's own that requires TLS and
verifies client certificates, as in README "Securing NATS": NATS_TLS_* give
the node its CA, certificate and key, the same variables the TypeScript nodes read."""

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moleculer_node import ServiceBroker, nats_tls
from test_broker import NS, FakeTsNode, greeter, run


def tool(name: str) -> str:
    """A binary the test needs; missing, it skips loudly, or fails with REQUIRE_INFRA=1."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    if not found:
        message = f"{name} not found on PATH (install it, or run: bash scripts/infra.sh up)"
        if os.environ.get("REQUIRE_INFRA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def make_pki(directory: Path) -> dict[str, str]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl (as test/cluster/nats-security.cluster.test.ts)."""
    openssl = tool("openssl")
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run_openssl(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True)

    run_openssl("req", "-x509", *new_key, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "1", "-subj", "/CN=shop-ca")
    for serial, (name, extensions) in enumerate({"server": "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n", "client": "extendedKeyUsage=clientAuth\n"}.items(), 1):
        (directory / f"{name}.ext").write_text(extensions)
        run_openssl("req", *new_key, "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run_openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-set_serial", str(serial), "-days", "1", "-out", f"{name}.pem", "-extfile", f"{name}.ext")
    return {name: str(directory / f"{name}.pem") for name in ("ca", "server", "client")} | {f"{name}-key": str(directory / f"{name}-key.pem") for name in ("server", "client")}


@pytest.fixture(scope="module")
def tls_nats(tmp_path_factory):
    """(url, pki) of a nats-server requiring TLS with verified client certificates, on a free port."""
    directory = tmp_path_factory.mktemp("nats-tls")
    pki = make_pki(directory)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = directory / "nats.conf"
    config.write_text(f'listen: 127.0.0.1:{port}\ntls {{ cert_file: "{pki["server"]}", key_file: "{pki["server-key"]}", ca_file: "{pki["ca"]}", verify: true }}\n')
    server = subprocess.Popen([tool("nats-server"), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nats-server with TLS did not start: {server.stderr.read().decode() if server.poll() is not None else 'timeout'}")
                time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}", pki
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_joins_with_ca_certificate_and_key_and_answers_calls(tls_nats):
    url, pki = tls_nats
    tls = nats_tls({"NATS_TLS_CA": pki["ca"], "NATS_TLS_CERT": pki["client"], "NATS_TLS_KEY": pki["client-key"]}, url)

    async def scenario():
        async with FakeTsNode(url, tls=tls) as ts:
            broker = ServiceBroker(url, namespace=NS, node_id="py1", tls=tls)
            broker.add_service(greeter([]))
            await asyncio.wait_for(broker.start(), timeout=10)
            try:
                assert (await ts.call("py1", "greeter.hello", {"name": "ada"}))["data"]["greeting"] == "hello ada"
            finally:
                await broker.stop()

    run(scenario())


def test_is_refused_without_a_client_certificate(tls_nats, caplog):
    url, pki = tls_nats
    # Only the CA: the node trusts the server, but the server does not know the node.
    broker = ServiceBroker(url, namespace=NS, node_id="py1", tls=nats_tls({"NATS_TLS_CA": pki["ca"]}, url))

    async def scenario():
        # nats-py keeps retrying (as it would while NATS restarts): the node just never joins.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(broker.start(), timeout=3)

    run(scenario())
    assert broker.nc is None
    # The server's TLS alert, as nats-py logs it (bad certificate, or certificate required in TLS 1.3).
    assert re.search(r"ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED)", caplog.text)


def test_a_missing_or_unpaired_file_stops_start_up_naming_its_variable(tmp_path):
    missing = str(tmp_path / "missing.pem")
    env = {**os.environ, "TRANSPORTER": "tls://127.0.0.1:4222", "NATS_TLS_CA": missing}
    started = subprocess.run([sys.executable, "-m", "recommendations"], cwd=Path(__file__).parent.parent, env=env, capture_output=True, text=True, timeout=30)
    assert started.returncode != 0
    assert f'NATS_TLS_CA must name an existing file, got "{missing}"' in started.stderr

    with pytest.raises(ValueError, match="NATS_TLS_KEY is not set"):
        nats_tls({"NATS_TLS_CERT": missing}, "nats://127.0.0.1:4222")
    assert nats_tls({}, "nats://127.0.0.1:4222") is None
    assert nats_tls({}, "nats://127.0.0.1:4222,tls://127.0.0.1:4223") is not None  # tls:// asks for TLS with the system's roots
