"""Ingest as operators run it: the installed command, killed jobs, stale batches, empty files."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalog import batches, repository
from catalog.store import Catalog
from infra.settings import Settings
from jobs.batch import ingest_one
from lake import delta
from pipelines.ingest import tables
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
    summary = json.loads(done.stdout)["data"][0]
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
    summary = json.loads(done.stdout)["data"][0]
    assert summary["empty"] is True and summary["rows_read"] == 0
    assert summary["engine"] == "local"  # a header alone starts no JVM (it once cost 15 CPU s)
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


def test_header_only_file_read_by_spark_is_the_same_empty_batch(lake_settings, landing):
    """Spark's reader takes any file above the local limit; a header alone is empty there too."""
    path = write_csv(landing / REG_TABLE / "empty.csv", [])
    on_spark = lake_settings.model_copy(update={"ingest_local_max_bytes": 0})
    summary = ingest_one(on_spark, resource_code=REGISTRATION, path=path)
    assert summary.engine == "spark"
    assert summary.empty and summary.rows_read == 0 and "空批次" in summary.warning
    assert not delta.exists(tables(lake_settings, REG_TABLE)["validated"])


def _children(pid: int) -> list[int]:
    from pipelines.watchdog import descendants

    return [p for p in descendants(pid) if p != pid]


def _java_below(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if command.endswith(b"java"):
            found.append(child)
    return found


def _running(pid: int) -> bool:
    from pipelines.watchdog import _alive

    return _alive(pid)


KILLED_JOB = """
import os, sys, time
from pathlib import Path
from infra.settings import Settings
from jobs.batch import ingest_one
from pipelines.spark import spark_session

settings = Settings()
spark_session(settings)
if os.fork() == 0:
    # A descendant that inherited the driver's descriptors, as Airflow's and multiprocessing's
    # forks do: it keeps the JVM's stdin pipe open, so the JVM never sees it close.
    time.sleep(600)
    os._exit(0)
ingest_one(settings, resource_code=sys.argv[1], path=Path(sys.argv[2]))
"""


@pytest.mark.concurrency
def test_killed_ingest_leaves_no_jvm_and_its_batch_fails_once_the_lease_expires(
    lake_settings, landing, tmp_path
):
    """kill -9 of the driver alone (not its process group), as the OOM killer or an operator
    would: the Spark JVM and its workers must not outlive it, and the batch must not stay
    处理中 for ever."""
    big = write_csv(
        landing / REG_TABLE / "big.csv", [registration_row(n) for n in range(1, 150_001)]
    )
    home = tmp_path / "operator"
    home.mkdir()
    script = tmp_path / "job.py"
    script.write_text(KILLED_JOB, encoding="utf-8")
    raw = tables(lake_settings, REG_TABLE)["raw"].path
    process = subprocess.Popen(
        [sys.executable, str(script), REGISTRATION, str(big)],
        cwd=home,
        env=cli_env(lake_settings, home),
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "job.log").open("wb"),
        start_new_session=True,  # so that the test can clean up whatever survives
    )
    jvm_tree: list[int] = []
    try:
        deadline = time.monotonic() + 240
        # Mid-run: the JVM is up and its tasks are writing the raw layer's files.
        while time.monotonic() < deadline and process.poll() is None:
            if _java_below(process.pid) and any(raw.glob("b-*")):
                break
            time.sleep(0.05)
        log = (tmp_path / "job.log").read_text(errors="replace")[-2000:]
        assert process.poll() is None, f"the job finished before it could be killed: {log}"
        [jvm] = _java_below(process.pid)
        jvm_tree = [jvm, *_children(jvm)]  # the JVM and its Python workers
        os.kill(process.pid, signal.SIGKILL)  # the driver only
        process.wait(timeout=30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(_running(p) for p in jvm_tree):
            time.sleep(0.2)
        survivors = [p for p in jvm_tree if _running(p)]
        assert not survivors, "the killed job's JVM (or its workers) survived it"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        for p in jvm_tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)

    lease = timedelta(seconds=lake_settings.batch_lease_seconds)
    now = datetime.now(UTC)
    catalog = Catalog(lake_settings, clock=lambda: now)
    with catalog.unit() as ctx:
        [batch] = batches.batches(ctx)
        assert batch.status == batches.RUNNING  # within its lease: it might still be alive
    catalog.dispose()
    later = Catalog(lake_settings, clock=lambda: now + lease + timedelta(seconds=1))
    with later.unit() as ctx:
        [batch] = batches.batches(ctx)  # any command listing batches settles the dead ones
        assert batch.status == batches.FAILED
        assert "作业中断（租约过期）" in batch.message
    later.dispose()
    # The file can simply be ingested again.
    summary = ingest_one(lake_settings, resource_code=REGISTRATION, path=big)
    assert summary.rows_accepted == 150_000
