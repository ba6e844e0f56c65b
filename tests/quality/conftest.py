"""Fixtures of the quality tests: a rule set for the registration resource, real Spark."""

from __future__ import annotations

from datetime import date

import pytest

from catalog.store import Catalog
from checks.rules import RuleSet
from infra.settings import Settings
from quality.service import ruleset_for
from tests.pipelines.conftest import REGISTRATION, lake_settings, landing  # noqa: F401 - fixtures

TODAY = date(2026, 3, 3)


def registration_rules(settings: Settings) -> RuleSet:
    catalog = Catalog(settings)
    try:
        with catalog.unit() as ctx:
            return ruleset_for(ctx, REGISTRATION, today=TODAY)
    finally:
        catalog.dispose()


@pytest.fixture
def spark(lake_settings: Settings):  # type: ignore[no-untyped-def]  # noqa: F811
    from pipelines.spark import spark_session

    return spark_session(lake_settings)
