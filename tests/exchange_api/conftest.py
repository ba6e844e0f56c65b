"""Fixtures of the exchange API tests: a real app on the real catalogue, both backends.

Keys are issued through ``catalog.keys`` exactly as ``govshare keys create`` does, and every
request goes through the full ASGI stack (routing, dependencies, handlers, serialisation).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from catalog import keys
from catalog.demo import DEPT
from catalog.domain import Role
from catalog.store import Catalog
from exchange_api.app import create_app
from infra.settings import Settings
from tests import factories
from tests.exchange_api.api_helpers import Api, Clock
from tests.factories import STEWARD


def _issue(catalog: Catalog, wanted: dict[str, tuple[str, Role]]) -> dict[str, str]:
    issued = {}
    with catalog.unit() as ctx:
        for name, (code, role) in wanted.items():
            _key, plaintext = keys.create_key(
                ctx, department_code=code, role=role, label=f"test {name}", actor=STEWARD
            )
            issued[name] = plaintext
    return issued


def _client(settings: Settings, clock: Clock) -> TestClient:
    return TestClient(create_app(settings, clock=clock))


@pytest.fixture
def demo_api(demo_catalog: Catalog, settings: Settings, clock: Clock) -> Iterator[Api]:
    """The demo city's catalogue with a steward key and keys for five departments."""
    wanted = {"steward": (DEPT["sjj"], Role.STEWARD)}
    wanted |= {name: (DEPT[name], Role.DEPARTMENT) for name in ("scjg", "sw", "rs", "ga", "zj")}
    issued = _issue(demo_catalog, wanted)
    with _client(settings, clock) as client:
        yield Api(client=client, keys=issued, codes=dict(DEPT))


@pytest.fixture
def small_api(catalog: Catalog, settings: Settings, clock: Clock) -> Iterator[Api]:
    """Three departments (the first is the data authority) and nothing else: fast to build."""
    with catalog.unit() as ctx:
        authority = factories.department(ctx, 1, is_data_authority=True)
        first = factories.department(ctx, 2)
        second = factories.department(ctx, 3)
        codes = {"authority": authority.code, "first": first.code, "second": second.code}
    issued = _issue(
        catalog,
        {
            "steward": (codes["authority"], Role.STEWARD),
            "first": (codes["first"], Role.DEPARTMENT),
            "second": (codes["second"], Role.DEPARTMENT),
        },
    )
    with _client(settings, clock) as client:
        yield Api(client=client, keys=issued, codes=codes)
