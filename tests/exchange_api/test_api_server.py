"""The API served by a real uvicorn on 127.0.0.1 and called over TCP with httpx."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from catalog import keys
from catalog.store import Catalog
from demo.catalog import DEPT
from exchange_api.app import create_app
from infra.settings import Settings
from tests.exchange_api.api_helpers import Clock
from tests.factories import STEWARD


@pytest.fixture
def live_url(demo_catalog: Catalog, settings: Settings, clock: Clock) -> Iterator[str]:
    """uvicorn in a thread on a socket we bound ourselves, so the port is free and known."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings, clock=clock), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_real_server_lists_resources_for_a_key(live_url: str, demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        _key, plaintext = keys.create_key(ctx, department_code=DEPT["ga"], actor=STEWARD)
    with httpx.Client(base_url=live_url, timeout=10) as http:
        listed = http.get(
            "/api/v1/resources", params={"limit": 5}, headers={"X-API-Key": plaintext}
        )
        assert listed.status_code == 200
        assert listed.headers["content-type"].startswith("application/json")
        # 29 in the demo, three of them other departments' unpublished resources.
        assert listed.json()["count"] == 26 and len(listed.json()["data"]) == 5

        one = http.get(
            "/api/v1/resources/000001001/000001",
            headers={"Authorization": f"Bearer {plaintext}"},
        )
        assert one.status_code == 200 and one.json()["name"] == "企业登记信息"

        anonymous = http.get("/api/v1/resources")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
