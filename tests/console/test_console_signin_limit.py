"""登录失败处理: failed sign-ins are limited per client address and per key id, counted in the
catalogue database, so two app instances (two API workers) share one count; the console's
sign-in and ``POST /api/v1/token`` share it too. Refusals say in Chinese when to try again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from catalog import keys
from catalog.domain import Role
from catalog.store import Catalog
from demo.catalog import DEPT
from exchange_api.app import create_app
from exchange_api.configuration import ExchangeSettings
from infra.settings import Settings
from tests.conftest import Clock
from tests.console.in_process import sign_in
from tests.factories import STEWARD

LIMITS = ExchangeSettings(
    signin_failures_per_client=3, signin_failures_per_key=4, signin_window_minutes=15
)
REFUSED = "登录失败次数过多，请 15 分钟后再试"


@dataclass
class Keys:
    steward: str
    rs: str

    @staticmethod
    def wrong(key: str) -> str:
        """The same key id with another secret."""
        return key[:-1] + ("A" if key[-1] != "A" else "B")


@pytest.fixture
def issued(demo_catalog: Catalog) -> Keys:
    with demo_catalog.unit() as ctx:
        steward = keys.create_key(ctx, department_code=DEPT["sjj"], role=Role.STEWARD,
                                  actor=STEWARD)[1]  # fmt: skip
        rs = keys.create_key(ctx, department_code=DEPT["rs"], actor=STEWARD)[1]
    return Keys(steward, rs)


@pytest.fixture
def apps(demo_catalog: Catalog, settings: Settings, clock: Clock) -> Iterator[list[FastAPI]]:
    """Two apps on one catalogue database: what two `govshare serve` workers are."""
    yield [create_app(settings, clock=clock, exchange_settings=LIMITS) for _ in range(2)]


def _sign_in(client: TestClient, key: str) -> tuple[int, str, dict[str, str]]:
    answer = sign_in(client, key)
    return answer.status_code, answer.text, dict(answer.headers)


def test_a_client_is_stopped_after_its_failures_across_workers_until_the_window_ends(
    apps: list[FastAPI], issued: Keys, clock: Clock
) -> None:
    first, second = apps
    with TestClient(first) as a, TestClient(second) as b:
        assert _sign_in(a, Keys.wrong(issued.rs))[0] == 401
        assert _sign_in(b, Keys.wrong(issued.rs))[0] == 401  # the other worker counts on
        assert _sign_in(a, "gs_notakey")[0] == 401  # malformed keys count for the client too
        status, page, headers = _sign_in(b, issued.rs)  # even the right key, for now
        assert status == 429
        assert REFUSED in page and 0 < int(headers["retry-after"]) <= 15 * 60
        assert "govshare_console=" not in headers.get("set-cookie", "")  # no session

        clock.advance(minutes=15)  # a new window
        assert _sign_in(a, issued.rs)[0] == 303
        assert a.get("/catalog", follow_redirects=False).status_code == 200


def test_one_key_id_is_stopped_whichever_clients_try_it(apps: list[FastAPI], issued: Keys) -> None:
    for n in range(4):  # four addresses, one failure each: under their own limit of three
        with TestClient(apps[n % 2], client=(f"10.0.0.{n + 1}", 40000)) as client:
            assert _sign_in(client, Keys.wrong(issued.steward))[0] == 401
    with TestClient(apps[0], client=("10.0.0.9", 40000)) as fresh:
        status, page, _headers = _sign_in(fresh, issued.steward)
        assert status == 429 and REFUSED in page
        assert _sign_in(fresh, issued.rs)[0] == 303  # another key from that address is fine


def test_token_exchange_shares_the_limit_and_answers_429_in_the_error_shape(
    apps: list[FastAPI], issued: Keys
) -> None:
    with TestClient(apps[0]) as api, TestClient(apps[1]) as console:
        for _ in range(2):
            bad = api.post("/api/v1/token", headers={"X-API-Key": Keys.wrong(issued.rs)})
            assert bad.status_code == 401
        assert _sign_in(console, Keys.wrong(issued.rs))[0] == 401  # the third, in the console
        refused = api.post("/api/v1/token", headers={"X-API-Key": issued.rs})
        assert refused.status_code == 429
        assert refused.json()["errorCode"] == "TOO_MANY_SIGN_INS"
        assert REFUSED in refused.json()["message"]
        assert int(refused.headers["retry-after"]) > 0
        # Data calls with a key are not sign-ins: the key itself still works.
        assert api.get("/api/v1/me", headers={"X-API-Key": issued.rs}).status_code == 200
