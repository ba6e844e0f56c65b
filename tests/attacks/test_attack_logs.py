"""Attack 13.5: looked-up ID numbers in the server's access and error logs.

``govshare serve`` runs as a real process with its logs captured; a consumer makes the
lookups a caseworker would (by path as before, by POST body, batch, 核验, refused and
malformed ones); then every captured line is searched for the identifiers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from catalog.domain import Role
from catalog.store import Catalog
from demo.catalog import DEPT
from infra.settings import Settings
from tests.exchange_api.conftest import PERSON_FIELDS, PERSON_PURPOSE, _grant, _issue
from tests.exchange_api.lake_cases import ACME, DEAD, LI, UNKNOWN, ZHANG

SERVER = "from govshare.cli import main; main()"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(demo_catalog: Catalog, settings: Settings, lake_root: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The exchange as ``govshare serve`` runs it, its stdout and stderr in one file."""
    from demo.catalog import PERSON_THEME as PERSON

    with demo_catalog.unit() as ctx:
        _grant(ctx, "rs", PERSON, PERSON_FIELDS, PERSON_PURPOSE)
    api_key = _issue(demo_catalog, {"rs": (DEPT["rs"], Role.DEPARTMENT)})["rs"]
    port = _free_port()
    log_path = tmp_path / "server.log"
    env = {
        **os.environ,
        "GOVSHARE_HOME": str(tmp_path / "home"),
        "GOVSHARE_DATABASE_URL": settings.catalog_url,
        "GOVSHARE_LAKE_ROOT": lake_root,
        "GOVSHARE_EXCHANGE_SIGNING_KEY_PATH": str(tmp_path / "keys" / "platform.pem"),
    }
    with log_path.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER, "serve", "--port", str(port)],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "server did not start"
                try:
                    httpx.get(f"{base}/openapi.json", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            yield base, api_key, log_path
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_no_identifier_reaches_any_log_line(served) -> None:  # type: ignore[no-untyped-def]
    base, api_key, log_path = served
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post("/token", headers={"X-API-Key": api_key}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(PERSON_PURPOSE)}
        # The key in the body: the way a client should look a person up now.
        lookup = http.post("/themes/person/profiles/lookup", json={"key": ZHANG}, headers=headers)
        assert lookup.status_code == 200, lookup.text
        assert lookup.json()["found"] is True
        # The older path form still works, and its access line is redacted.
        assert http.get(f"/themes/person/profiles/{LI}", headers=headers).status_code == 200
        missing = http.get(f"/themes/person/profiles/{UNKNOWN}", headers=headers)
        assert missing.status_code == 404
        bad = ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1")
        assert http.get(f"/themes/person/profiles/{bad}", headers=headers).status_code == 422
        http.get(f"/themes/enterprise/profiles/{ACME}", headers=headers, params={"q": DEAD})
        batch = http.post("/themes/person/profiles/batch", json={"keys": [DEAD, ZHANG]},
                          headers=headers)  # fmt: skip
        assert batch.status_code == 200
        http.post("/verify/identity", headers=headers,
                  json={"id_number": ZHANG, "name": "张三丰", "case_ref": "C1",
                        "business_matter": "就业困难人员认定"})  # fmt: skip
        http.get(f"/no/such/route/{ZHANG}", headers=headers)
    time.sleep(0.5)  # let the server flush its last access lines (not a timing assertion)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    assert "/themes/person/profiles/lookup" in text, text  # the access log is really on
    leaked = [line for line in text.splitlines()
              if any(i in line for i in (ZHANG, LI, DEAD, UNKNOWN, bad, ACME))]  # fmt: skip
    assert leaked == [], leaked
