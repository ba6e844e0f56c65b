"""Several API worker processes append to one audit chain: no call fails for it, no fork.

A real ``uvicorn --workers`` (separate processes, one catalogue database) is called by
concurrent HTTP clients; afterwards the chain verifies and holds exactly one entry per
answered data call. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select

from catalog.models import AuditEntry
from exchange_api.audit import verify_chain
from tests.exchange_api.api_helpers import Api
from tests.exchange_api.conftest import PERSON_PURPOSE
from tests.exchange_api.lake_cases import LI, UNKNOWN, ZHANG
from tests.exchange_api.servers import server_env, uvicorn_workers

WORKERS = 4  # two cores; four workers make append races frequent enough to see
CALLS = 200  # two audit checkpoints (every 100 entries); make soak runs the longer load test
CLIENTS = 16

pytestmark = [pytest.mark.slow, pytest.mark.concurrency]


@pytest.fixture
def workers(data_api: Api, settings, exchange_settings, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """``uvicorn --workers`` on the test's catalogue, lake and platform key."""
    env = server_env(
        home=settings.home, database_url=settings.catalog_url,
        lake_root=data_api.client.app.state.settings.lake_root,  # type: ignore[attr-defined]
        signing_key=exchange_settings.signing_key_path,
    )  # fmt: skip
    with uvicorn_workers(env, workers=WORKERS, log=tmp_path / "uvicorn.log") as base:
        yield base


def _token(http: httpx.Client, key: str) -> str:
    response = http.post("/api/v1/token", headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_several_workers_append_one_unbroken_chain_under_load(workers: str, data_api: Api) -> None:
    with httpx.Client(base_url=workers, timeout=30) as http:
        tokens = {who: _token(http, data_api.keys[who]) for who in ("rs", "zj")}

    def call(n: int) -> tuple[int, str | None]:
        who = "zj" if n % 4 == 3 else "rs"  # zj holds no grant: a refusal, logged too
        headers = {"Authorization": f"Bearer {tokens[who]}", "X-Purpose": quote(PERSON_PURPOSE)}
        # Profiles, not 核验: 核验 calls are bounded per subject and case (quotas), which
        # this load would exhaust; every profile lookup is audited just the same.
        subject = (ZHANG, LI, UNKNOWN)[n % 3]
        with httpx.Client(base_url=workers, timeout=30) as http:
            response = http.get(f"/api/v1/themes/person/profiles/{subject}", headers=headers)
        return response.status_code, response.headers.get("x-request-id")

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = list(pool.map(call, range(CALLS)))

    statuses = [status for status, _ in answers]
    assert [s for s in statuses if s >= 500] == []
    assert set(statuses) <= {200, 403, 404}  # 404: UNKNOWN is not in the theme
    exchange = data_api.client.app.state.exchange  # type: ignore[attr-defined]
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        # The workers anchored the head every 100 entries, in the same GOVSHARE_HOME.
        checkpoints = exchange.audit.checkpoints
        assert {c.seq for c in checkpoints.read()} == set(range(100, CALLS + 1, 100))
        report = verify_chain(ctx.session, exchange.key, checkpoints)
        assert report.ok, report.problem
        assert report.entries == CALLS
        request_ids = set(ctx.session.scalars(select(AuditEntry.request_id)))
        assert ctx.session.scalar(select(func.count(func.distinct(AuditEntry.seq)))) == CALLS
    assert len(request_ids) == CALLS
    assert {rid for _, rid in answers if rid} <= request_ids
