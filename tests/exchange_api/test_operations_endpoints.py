"""/healthz, /readyz and /metrics, and the rate limit shared by every worker of a deployment.

Readiness is checked against a really dead database: the app reaches PostgreSQL through a
TCP relay the test owns, and the relay is shut down while the app keeps running.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from catalog.models import AuditEntry, Grant
from catalog.store import Catalog
from exchange_api.app import create_app
from exchange_api.configuration import ExchangeSettings
from infra.settings import Settings
from tests.exchange_api.api_helpers import Api, Clock, data_get, data_headers
from tests.exchange_api.conftest import PERSON_PURPOSE
from tests.exchange_api.lake_cases import ZHANG

PROFILE = f"/themes/person/profiles/{ZHANG}"


def test_healthz_answers_while_the_process_lives(small_api: Api) -> None:
    response = small_api.client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_the_catalogue_and_the_lake(data_api: Api) -> None:
    response = data_api.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["catalogue"]["ok"] and body["checks"]["lake"]["ok"]


def test_readyz_is_503_naming_an_unreadable_lake(
    catalog: Catalog, settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    gone = settings.model_copy(update={"lake_root": str(tmp_path / "no-such-lake")})
    with TestClient(create_app(gone, clock=clock)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["errorCode"] == "NOT_READY" and "数据湖目录不可读" in body["message"]
    assert body["checks"]["catalogue"]["ok"] and not body["checks"]["lake"]["ok"]


class _Relay:
    """A TCP relay to PostgreSQL that the test can cut, as a crashed server would be."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed: the "server" is down
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        # shutdown() wakes the blocked accept(): a bare close() would leave the port listening.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self.lock:
            for end in self.sockets:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()


@pytest.fixture
def relay(settings: Settings) -> Iterator[_Relay]:
    url = make_url(settings.catalog_url)
    relay = _Relay((url.host or "127.0.0.1", url.port or 5432))
    yield relay
    relay.cut()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_readyz_is_503_when_the_catalogue_database_dies(
    catalog: Catalog, settings: Settings, clock: Clock, relay: _Relay, tmp_path: Path
) -> None:
    (tmp_path / "lake").mkdir()
    via_relay = make_url(settings.catalog_url).set(port=relay.port)
    relayed = settings.model_copy(
        update={
            "database_url": via_relay.render_as_string(hide_password=False),
            "lake_root": str(tmp_path / "lake"),
            "database_connect_timeout": 1,
        }
    )
    with TestClient(create_app(relayed, clock=clock)) as client:
        assert client.get("/readyz").status_code == 200
        relay.cut()
        response = client.get("/readyz")
        assert response.status_code == 503, response.text
        body = response.json()
        assert "目录数据库无法访问" in body["message"] and not body["checks"]["catalogue"]["ok"]
        assert str(relay.port) not in response.text  # no address in the answer
        assert client.get("/healthz").status_code == 200  # alive, just not ready
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and "govshare_catalogue_up 0.0" in metrics.text


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_by_route_template_and_audit_appends(data_api: Api) -> None:
    client = data_api.client
    before = client.get("/metrics").text
    route = "/api/v1/themes/{theme}/profiles/{key}"
    count = "govshare_http_request_duration_seconds_count"
    assert data_get(data_api, "rs", PROFILE, PERSON_PURPOSE).status_code == 200
    assert data_get(data_api, "zj", PROFILE, PERSON_PURPOSE).status_code == 403
    after = client.get("/metrics")
    assert after.status_code == 200 and after.headers["content-type"].startswith("text/plain")
    text = after.text
    for status in ("200", "403"):
        grew = _sample(text, count, route=route, status=status) - _sample(
            before, count, route=route, status=status
        )
        assert grew == 1, status
    appended = "govshare_audit_appends_total"
    for outcome in ("allowed", "denied"):
        grew = _sample(text, appended, outcome=outcome) - _sample(before, appended, outcome=outcome)
        assert grew == 1, outcome
    assert _sample(text, "govshare_catalogue_up") == 1
    assert "govshare_ingest_rows_total" in text and "govshare_dp_budget_spent_epsilon" in text
    assert ZHANG not in text  # labels are templates, never a looked-up key


def test_metrics_take_a_bearer_token_when_one_is_configured(
    demo_catalog: Catalog, settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    config = ExchangeSettings(
        signing_key_path=tmp_path / "keys" / "platform.pem", metrics_token="s3cret-scraper"
    )
    with TestClient(create_app(settings, clock=clock, exchange_settings=config)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        allowed = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scraper"})
        assert allowed.status_code == 200 and "govshare_catalogue_up 1.0" in allowed.text
        assert client.get("/healthz").status_code == 200  # probes stay open


def test_the_rate_limit_of_a_grant_holds_across_api_workers(
    data_api: Api, settings: Settings, clock: Clock, lake_root: str, exchange_settings
) -> None:  # type: ignore[no-untyped-def]
    """Two apps on one catalogue, as two uvicorn workers: 3 a minute is 3, not 3 each."""
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        ctx.session.execute(
            update(Grant)
            .where(Grant.id == data_api.grants["person"])  # type: ignore[attr-defined]
            .values(rate_limit_per_minute=3)
        )
    second = create_app(
        settings.model_copy(update={"lake_root": lake_root}), clock=clock,
        exchange_settings=exchange_settings,
    )  # fmt: skip
    headers = data_headers(data_api, "rs", PERSON_PURPOSE)
    with TestClient(second) as other:
        clients = [data_api.client, other] * 3
        codes = [c.get(f"/api/v1{PROFILE}", headers=headers).status_code for c in clients]
        assert codes == [200, 200, 200, 429, 429, 429]
        clock.advance(minutes=1)  # type: ignore[attr-defined]
        fresh = data_headers(data_api, "rs", PERSON_PURPOSE)
        assert other.get(f"/api/v1{PROFILE}", headers=fresh).status_code == 200


def test_a_refused_data_call_names_its_audit_entry_like_an_answered_one(data_api: Api) -> None:
    refused = data_get(data_api, "zj", PROFILE, PERSON_PURPOSE)  # 住建 holds no grant
    assert refused.status_code == 403
    request_id = refused.headers["x-request-id"]
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        entry = ctx.session.scalars(
            select(AuditEntry).where(AuditEntry.request_id == request_id)
        ).one()
    assert entry.outcome == "denied" and entry.status == 403
