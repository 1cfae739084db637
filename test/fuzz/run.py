"""Property-based fuzzing of the REST API with Schemathesis.

Starts the whole backend on embedded defaults (one process, NeDB in a
temporary directory), signs in as a customer and as the admin, and runs
Schemathesis against /api/openapi.json as each: every phase (examples,
coverage, fuzzing, stateful sequences through the document's links), with
checks for server errors and for statuses, content types, headers and bodies
that the document does not promise. Exits non-zero on any failure and prints
how many cases were generated.

Run from the repository root after `npm run build`:
    .infra/venv/bin/python test/fuzz/run.py [--max-examples N] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
])
ADMIN = {"email": "fuzz-admin@shop.local", "password": "fuzz-admin-password-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            raw = res.read()
            return res.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def wait_ready(base: str, backend: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if backend.poll() is not None:
            raise SystemExit(f"the backend exited with {backend.returncode} before it was ready")
        try:
            if call(base, "GET", "/health/ready")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the backend was not ready within {timeout} s")


def start_backend(port: int, data_dir: str, log) -> subprocess.Popen:
    node = shutil.which("node", path=f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    env = {
        **os.environ,
        "PORT": str(port),
        "DATA_DIR": data_dir,
        "NODE_ENV": "development",
        "LOGLEVEL": "warn",
        "ADMIN_EMAIL": ADMIN["email"],
        "ADMIN_PASSWORD": ADMIN["password"],
        # The fuzzer is one client sending thousands of requests.
        "RATE_LIMIT": "10000000",
        "AUTH_RATE_LIMIT": "10000000",
    }
    for name in ("TRANSPORTER", "CACHER", "MONGO_URI", "METRICS_PORT", "HEALTH_PORT"):
        env.pop(name, None)  # embedded defaults
    runner = ROOT / "node_modules" / "moleculer" / "bin" / "moleculer-runner.js"
    return subprocess.Popen(
        [node, str(runner), "--config", "dist/moleculer.config.js", "dist/services"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )


def sign_in(base: str) -> dict[str, str]:
    status, customer = call(base, "POST", "/api/auth/register", {"email": f"fuzz.{os.getpid()}@example.com", "password": "fuzz-password-123", "name": "Fuzz"})
    assert status == 201, (status, customer)
    status, admin = call(base, "POST", "/api/auth/login", ADMIN)
    assert status == 200, (status, admin)
    # Something in the customer's cart, so checkout sequences get past "empty cart".
    _, page = call(base, "GET", "/api/products?pageSize=1")
    call(base, "POST", "/api/cart/items", {"productId": page["rows"][0]["id"], "quantity": 1}, customer["accessToken"])
    return {"customer": customer["accessToken"], "admin": admin["accessToken"]}


def fuzz(base: str, who: str, token: str, args: argparse.Namespace, report_dir: Path) -> tuple[int, int]:
    """Runs Schemathesis as one caller; returns (exit code, cases generated)."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "run", f"{base}/api/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", CHECKS,
        "--max-examples", str(args.max_examples),
        "--seed", str(args.seed),
        # One worker: Hypothesis parses lambdas with `ast`, which CPython 3.11
        # can break on across threads ("AST constructor recursion depth mismatch").
        "--workers", "1",
        "--report", "junit", "--report-dir", str(report_dir / who),
        "--output-truncate", "true",
        "--warnings", "off",
        # The docs page's scripts are static files, not API.
        "--exclude-path-regex", "^/docs",
    ]
    print(f"\n=== Schemathesis as the {who} ===", flush=True)
    result = subprocess.run(command, cwd=report_dir, capture_output=True, text=True)
    print(result.stdout[-20000:], result.stderr[-5000:], sep="\n", flush=True)
    generated = re.search(r"(\d+) generated", result.stdout)
    return result.returncode, int(generated.group(1)) if generated else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES", "40")))
    # A fixed seed by default, as Hypothesis advises for CI: a run is repeatable,
    # and a red build is the code's doing. FUZZ_SEED explores further.
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "20261122")))
    args = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="shop-fuzz-") as work:
        work_dir = Path(work)
        log_path = work_dir / "backend.log"
        with open(log_path, "w") as log:
            backend = start_backend(port, str(work_dir / "data"), log)
            try:
                wait_ready(base, backend)
                tokens = sign_in(base)
                results = {who: fuzz(base, who, token, args, work_dir) for who, token in tokens.items()}
            finally:
                backend.terminate()
                try:
                    backend.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    backend.kill()
        total = sum(generated for _, generated in results.values())
        print(f"\nAPI fuzzing (seed {args.seed}): {total} generated cases", *(f"  {who}: {generated}, exit {code}" for who, (code, generated) in results.items()), sep="\n")
        failed = [who for who, (code, _) in results.items() if code != 0]
        if failed or total == 0:
            print("\nBackend log (tail):\n" + log_path.read_text()[-5000:])
            print(f"FAILED as: {', '.join(failed) or 'nobody (no cases generated)'}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
