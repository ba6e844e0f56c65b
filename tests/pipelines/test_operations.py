"""Ingest as operators run it: the installed command, killed jobs, stale batches, empty files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalog import batches, repository
from catalog.store import Catalog
from infra.settings import Settings
from pipelines.ingest import tables
from pipelines.jobs import ingest_one
from pipelines.lake import delta
from tests.pipelines.conftest import REG_TABLE, REGISTRATION, registration_row, write_csv

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def cli_env(settings: Settings, home: Path, **extra: str) -> dict[str, str]:
    """The environment of an operator's shell: only the system's folders on PATH, the venv
    not activated, the deployment's settings in ``GOVSHARE_*`` variables."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "GOVSHARE_HOME": str(settings.home),
        "GOVSHARE_DATABASE_URL": settings.catalog_url,
        "GOVSHARE_LANDING_DIR": str(settings.landing_dir),
        "GOVSHARE_SPARK_MASTER": "local[2]",
        "GOVSHARE_SPARK_SHUFFLE_PARTITIONS": "2",
        "GOVSHARE_SPARK_DRIVER_MEMORY": "1g",
    }
    if os.environ.get("JAVA_HOME"):
        env["JAVA_HOME"] = os.environ["JAVA_HOME"]
    env.update(extra)
    return env


def test_installed_command_ingests_without_the_venv_on_path(lake_settings, landing, tmp_path):
    """PySpark starts its Python workers with PYSPARK_PYTHON (default: ``python3`` on PATH);
    the system's python3 has no pyarrow, so the workers must be told to use this venv."""
    path = write_csv(landing / REG_TABLE / "reg_1.csv", [registration_row(n) for n in (1, 2, 3)])
    home = tmp_path / "operator"
    home.mkdir()
    done = subprocess.run(
        [str(VENV_BIN / "govshare"), "ingest", REGISTRATION, "--file", str(path), "--json"],
        cwd=home,
        env=cli_env(lake_settings, home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert (summary["rows_read"], summary["rows_accepted"]) == (3, 3)


def test_header_only_file_is_an_empty_batch_not_a_publication(lake_settings, landing, tmp_path):
    """A file with the header and no rows once became 已入库 with 0 rows and exit 0."""
    path = write_csv(landing / REG_TABLE / "empty.csv", [])
    home = tmp_path / "operator"
    home.mkdir()
    done = subprocess.run(
        [str(VENV_BIN / "govshare"), "ingest", REGISTRATION, "--file", str(path), "--json"],
        cwd=home,
        env=cli_env(lake_settings, home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]  # nothing failed: the provider is warned
    summary = json.loads(done.stdout)
    assert summary["empty"] is True and summary["rows_read"] == 0
    assert "空批次" in summary["warning"]
    catalog = Catalog(lake_settings)
    with catalog.unit() as ctx:
        record = batches.batch_or_none(ctx, summary["batch_id"])
        mount = repository.resource(ctx.session, REGISTRATION).mounts[0]
        assert record.status == batches.EMPTY and "空批次" in record.message
        assert mount.last_refreshed_at is None  # a header is not fresh data
    catalog.dispose()
    assert not delta.exists(tables(lake_settings, REG_TABLE)["validated"])
    again = ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    assert again.skipped and again.empty and "空批次" in again.warning
