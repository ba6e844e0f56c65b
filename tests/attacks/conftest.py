"""Attack tests run against the same real apps as the exchange API tests."""

from tests.exchange_api.conftest import (  # noqa: F401 (fixtures are found by name)
    data_api,
    demo_api,
    exchange_settings,
    lake_root,
    small_api,
)
