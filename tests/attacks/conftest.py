"""The attack tests run on the exchange API tests' fixtures (demo catalogue, lake, keys).

Quotas are set low here so that an attack crosses them in a handful of calls.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange_api.configuration import ExchangeSettings
from tests.exchange_api.conftest import (  # noqa: F401 (re-exported fixtures)
    data_api,
    lake_root,
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
