"""Fixtures of the attack tests: the demo catalogue served over lakes built for the attacks.

The exchange tests' fixtures are reused (``data_api``, ``lake_root``, the grant helpers);
``open_api`` lets a test choose the privacy settings it attacks, and quotas are set low here
so that an attack crosses them in a handful of calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog.domain import Role
from catalog.store import Catalog
from demo.catalog import DEPT
from exchange_api.app import create_app
from exchange_api.configuration import ExchangeSettings
from infra.settings import Settings
from tests.exchange_api.api_helpers import Api, Clock
from tests.exchange_api.conftest import (  # noqa: F401 (re-exported fixtures)
    _issue,
    data_api,
    demo_api,
    lake_root,
    small_api,
)

VERIFY_PER_CASE = 3
VERIFY_PER_SUBJECT = 2
VERIFY_ALERT_AT = 5
KEYS_PER_DAY = 40


@pytest.fixture
def exchange_settings(tmp_path: Path) -> ExchangeSettings:
    return ExchangeSettings(
        signing_key_path=tmp_path / "keys" / "platform.pem",
        snapshot_refresh_seconds=0,
        verify_max_per_case=VERIFY_PER_CASE,
        verify_max_per_subject_per_day=VERIFY_PER_SUBJECT,
        verify_alert_per_day=VERIFY_ALERT_AT,
        lookup_keys_per_grant_per_day=KEYS_PER_DAY,
    )


@pytest.fixture(scope="session")
def attack_lake(tmp_path_factory: pytest.TempPathFactory) -> str:
    from tests.attacks.lake import build_attack_lake

    return build_attack_lake(tmp_path_factory.mktemp("attack_lake"))


OpenApi = Callable[..., AbstractContextManager[Api]]


@pytest.fixture
def open_api(
    demo_catalog: Catalog, settings: Settings, clock: Clock, attack_lake: str, tmp_path: Any
) -> OpenApi:
    """Open the API on the demo catalogue with keys for 人社, 住建 and 公安 and chosen settings."""
    issued = _issue(
        demo_catalog,
        {name: (DEPT[name], Role.DEPARTMENT) for name in ("rs", "zj", "ga")}
        | {"steward": (DEPT["sjj"], Role.STEWARD)},
    )

    @contextmanager
    def _open(**overrides: Any) -> Iterator[Api]:
        config = ExchangeSettings(
            signing_key_path=tmp_path / "keys" / "platform.pem",
            snapshot_refresh_seconds=0,
            catalogue_cache_seconds=0,
            **({"budget_epsilon": 1.0, "epsilon_per_query": 0.5} | overrides),
        )
        lake_settings = settings.model_copy(update={"lake_root": attack_lake})
        app = create_app(lake_settings, clock=clock, exchange_settings=config)
        with TestClient(app) as client:
            api = Api(client=client, keys=issued, codes=dict(DEPT))
            api.catalog = demo_catalog  # type: ignore[attr-defined]
            api.settings = lake_settings  # type: ignore[attr-defined]
            api.config = config  # type: ignore[attr-defined]
            api.clock = clock  # type: ignore[attr-defined]
            yield api

    return _open
