"""Console sessions on the app in-process, with the catalogue's settable clock: idle expiry
(a setting) slides with each request, and revoking the key ends the session at once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from catalog import keys
from catalog.store import Catalog
from demo.catalog import DEPT
from exchange_api.app import create_app
from exchange_api.configuration import ExchangeSettings
from exchange_api.console.routes.session import safe_next
from infra.settings import Settings
from tests.catalogues import Clock
from tests.console.in_process import csrf, sign_in
from tests.factories import STEWARD


def _signed_in(client: TestClient, key: str) -> None:
    answer = sign_in(client, key)
    assert answer.status_code == 303 and answer.headers["location"] == "/catalog"


def test_session_expires_after_the_idle_time_and_slides_with_use(
    demo_catalog: Catalog, settings: Settings, clock: Clock
) -> None:
    with demo_catalog.unit() as ctx:
        key, plaintext = keys.create_key(ctx, department_code=DEPT["rs"], actor=STEWARD)
    app = create_app(
        settings, clock=clock, exchange_settings=ExchangeSettings(console_idle_minutes=30)
    )
    with TestClient(app) as client:
        _signed_in(client, plaintext)
        for _ in range(3):  # 29 minutes apart: each request keeps the session alive
            clock.advance(minutes=29)
            assert client.get("/catalog", follow_redirects=False).status_code == 200
        clock.advance(minutes=31)
        expired = client.get("/catalog", follow_redirects=False)
        assert expired.status_code == 303
        assert expired.headers["location"].startswith("/login?next=")

        _signed_in(client, plaintext)
        assert client.get("/catalog", follow_redirects=False).status_code == 200
        with demo_catalog.unit() as ctx:
            keys.revoke_key(ctx, key_id=key.key_id, actor=STEWARD)
        assert client.get("/catalog", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/catalog?q=婚姻", "/catalog?q=婚姻"),
        ("/demands/XQ1", "/demands/XQ1"),
        ("//evil.example", "/catalog"),
        ("/\\evil.example", "/catalog"),
        ("/\t/evil.example", "/catalog"),
        ("/\n/evil.example", "/catalog"),
        ("https://evil.example/", "/catalog"),
        ("", "/catalog"),
    ],
    ids=["page", "demand", "scheme-relative", "backslash", "tab", "newline", "absolute", "empty"],
)
def test_sign_in_returns_only_to_a_path_of_this_site(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def test_a_form_posted_after_expiry_leads_to_sign_in_not_to_the_form_target(
    demo_catalog: Catalog, settings: Settings, clock: Clock
) -> None:
    with demo_catalog.unit() as ctx:
        _key, plaintext = keys.create_key(ctx, department_code=DEPT["rs"], actor=STEWARD)
    app = create_app(
        settings, clock=clock, exchange_settings=ExchangeSettings(console_idle_minutes=30)
    )
    with TestClient(app) as client:
        _signed_in(client, plaintext)
        token = csrf(client, "/demands")
        clock.advance(minutes=31)
        answer = client.post(
            "/demands/XQ1/withdraw", data={"csrf_token": token}, follow_redirects=False
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=%2Fcatalog"
