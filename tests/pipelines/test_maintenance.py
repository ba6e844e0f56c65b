"""Lake maintenance on real Delta tables written by real merge batches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.batch import ingest_one
from lake import delta
from lake.maintenance import data_bytes, live_bytes, maintain, maintain_lake, window_of
from pipelines.ingest import tables
from tests.pipelines.conftest import REG_TABLE, REGISTRATION, registration_row, write_csv

pytestmark = pytest.mark.slow


def _commit_time(ref: delta.TableRef, version: int) -> datetime:
    [entry] = [e for e in delta.history(ref) if int(e["version"]) == version]
    return datetime.fromtimestamp(entry["timestamp"] / 1000, UTC)


def _govshare(settings, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "GOVSHARE_HOME": str(settings.home),
        "GOVSHARE_DATABASE_URL": settings.catalog_url,
        "GOVSHARE_LANDING_DIR": str(settings.landing_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "govshare", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_maintenance_keeps_the_window_readable_and_the_disk_near_the_live_size(
    lake_settings, landing
) -> None:
    validated = tables(lake_settings, REG_TABLE)["validated"]
    # Four merge batches: each updates every earlier key and adds new ones, so each version
    # rewrites the whole table (copy-on-write) and the folder holds every version.
    for batch in range(4):
        rows = [registration_row(n, 企业状态=f"状态{batch}") for n in range(1, 1501 + 500 * batch)]
        path = write_csv(landing / REG_TABLE / f"reg_{batch}.csv", rows)
        assert ingest_one(lake_settings, resource_code=REGISTRATION, path=path).table_version == (
            batch
        )
    assert data_bytes(validated) > 2.5 * live_bytes(validated)
    # A write in flight: Parquet in the table's folder that no commit names yet.
    inflight = validated.path / "m-inflight" / "part-00000.parquet"
    inflight.parent.mkdir()
    pq.write_table(pa.table({"x": [1]}), inflight)
    window = window_of(lake_settings)

    # A week after version 3 was committed: version 2 was current until then, so it is inside
    # the window; versions 0 and 1 are not.
    report = maintain(
        validated, window=window, compact_min_files=1000, now=_commit_time(validated, 3) + window
    )

    assert report.oldest_readable_version == 2 and not report.skipped
    assert report.files_vacuumed > 0 and report.bytes_after < report.bytes_before
    before = {r["统一社会信用代码"]: r for r in delta.read(validated, version=2).to_pylist()}
    assert len(before) == 2500 and {r["企业状态"] for r in before.values()} == {"状态2"}
    assert delta.read(validated).num_rows == 3000
    assert inflight.exists()  # uncommitted files are never vacuumed
    refused = _govshare(lake_settings, "lake", "read", f"validated.{REG_TABLE}", "--version", "0")
    assert refused.returncode == 1
    assert "版本 0 已超出回溯窗口" in refused.stderr and "Traceback" not in refused.stderr

    # Once the window has passed, only the current version's files remain.
    later = maintain_lake(lake_settings, tables=[validated], now=datetime.now(UTC) + window * 2)
    assert later[0].oldest_readable_version == 3  # the last batch; vacuums changed no data
    inflight.unlink()
    assert data_bytes(validated) <= 1.5 * live_bytes(validated)
    assert delta.read(validated).num_rows == 3000


def test_lake_maintain_command_reports_every_table_and_compacts_small_files(
    lake_settings, landing
) -> None:
    for batch in range(3):  # appends to raw: a few small files per batch
        path = write_csv(
            landing / REG_TABLE / f"reg_{batch}.csv",
            [registration_row(n) for n in range(1 + 100 * batch, 101 + 100 * batch)],
        )
        ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    raw = tables(lake_settings, REG_TABLE)["raw"]
    files_before = len(delta.live_files(raw))
    assert files_before >= 3

    done = _govshare(lake_settings, "lake", "maintain", "--json")

    assert done.returncode == 0, done.stderr
    reports = {r["table"]: r for r in json.loads(done.stdout)["data"]}
    assert set(reports) == {f"{layer}.{REG_TABLE}" for layer in ("raw", "validated")}
    assert all(not r["skipped"] for r in reports.values())
    # The default window is a week: nothing committed minutes ago is vacuumed.
    assert reports[f"validated.{REG_TABLE}"]["oldest_readable_version"] == 0
    assert delta.read(tables(lake_settings, REG_TABLE)["validated"], version=0).num_rows == 100

    compacted = maintain_lake(lake_settings, tables=[raw])[0]
    assert compacted.files_compacted == 0  # below the default of 32 files
    env_small = lake_settings.model_copy(update={"lake_compact_min_files": 2})
    compacted = maintain_lake(env_small, tables=[raw])[0]
    assert compacted.files_compacted == files_before and not compacted.skipped
    assert len(delta.live_files(raw)) < files_before
    assert delta.read(raw).num_rows == 300
    assert Path(raw.path).is_dir()
