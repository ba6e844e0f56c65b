"""Real API servers for tests: ``uvicorn --workers`` in a subprocess on a test's catalogue.

Shared by the tests that need separate worker processes (the audit chain under load, the
mixed-load test, metrics summed over workers) or a real server in a thread (Delta Sharing's
connector, file responses); the in-process ``TestClient`` fixtures serve everything else.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

STARTED = "Application startup complete"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(
    *, home: Path, database_url: str, lake_root: str, signing_key: Path, **extra: str
) -> dict[str, str]:
    """The environment a worker reads its settings from (the test's catalogue, lake, key)."""
    return {
        **os.environ,
        "GOVSHARE_HOME": str(home),
        "GOVSHARE_DATABASE_URL": database_url,
        "GOVSHARE_LAKE_ROOT": lake_root,
        "GOVSHARE_EXCHANGE_SIGNING_KEY_PATH": str(signing_key),
        "GOVSHARE_EXCHANGE_SNAPSHOT_REFRESH_SECONDS": "0",
        **extra,
    }


@contextmanager
def uvicorn_workers(env: dict[str, str], *, workers: int, log: Path) -> Iterator[str]:
    """Start ``uvicorn --workers`` and yield its base URL once every worker has started."""
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "--factory", "exchange_api.app:create_app",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                "--no-access-log", "--log-level", "info",
            ],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while log.read_text(errors="replace").count(STARTED) < workers:
            assert server.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "uvicorn workers did not start"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@contextmanager
def uvicorn_thread(app: Any) -> Iterator[str]:
    """Serve ``app`` with a real uvicorn in a thread of this process; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
