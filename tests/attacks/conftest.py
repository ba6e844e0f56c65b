"""The attack tests run on the exchange API tests' fixtures (demo catalogue, lake, keys)."""

from tests.exchange_api.conftest import (  # noqa: F401 (re-exported fixtures)
    data_api,
    exchange_settings,
    lake_root,
)
