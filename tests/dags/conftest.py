"""Fixtures for the generated DAGs: Airflow confined to tmp, a seeded catalogue per test.

Airflow reads its configuration once, when it is first imported, so one session fixture
points it at a metadata database and home under pytest's tmp before anything imports it;
tests import Airflow only inside test bodies or fixtures. Each test then gets its own
GOVSHARE_HOME (catalogue, lake, landing folder, capability snapshot, lineage), exported in
the environment because the DAG file and the tasks read the process settings.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.store import refresh_snapshot
from dags.runner import DAGS_FOLDER
from infra.settings import Settings, get_settings
from tests.catalogues import Templates


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("airflow")
    if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != str(home):
        pytest.fail("Airflow was imported before tests/dags configured it (import it lazily)")
    wanted = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
    }
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def dag_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, airflow_home: Path, _templates: Templates
) -> Iterator[Settings]:
    """The demo catalogue on SQLite, its snapshot written, and the settings in the env."""
    env = {
        "GOVSHARE_HOME": str(tmp_path / "home"),
        "GOVSHARE_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
        "GOVSHARE_LANDING_DIR": str(tmp_path / "landing"),
        "GOVSHARE_SPARK_MASTER": "local[2]",
        "GOVSHARE_SPARK_SHUFFLE_PARTITIONS": "2",
        "GOVSHARE_SPARK_DRIVER_MEMORY": "1g",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    settings = get_settings()
    _templates.copy("demo-now", settings)  # migrated and seeded once per session
    refresh_snapshot(settings)
    yield settings
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def stop_spark_after() -> Iterator[None]:
    yield
    from pipelines.spark import stop_spark

    stop_spark()
