"""Benchmarks: speed is measured here against a plain baseline in the same run, never asserted."""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def scratch_run(work: Path) -> Iterator[Path]:
    """Remove ``work`` afterwards, and stop the Spark session if this run started it.

    A benchmark's session keeps its scratch folders under ``work``; a session left running
    after they are gone breaks the next user of the process's session (the tests run the
    benchmarks one after another).
    """
    from pipelines import spark as spark_module

    own_session = spark_module._session is None
    try:
        yield work
    finally:
        if own_session:
            spark_module.stop_spark()
        shutil.rmtree(work, ignore_errors=True)


def warm_median(
    run: Callable[[Path], object],
    *,
    warmup: Path,
    source: Path,
    repeat: int,
    clock: Callable[[], float] = time.process_time,
) -> tuple[float, float, list[float]]:
    """Median wall seconds and median ``clock`` seconds of ``repeat`` runs on ``source``,
    after one run on the small ``warmup`` file (JVM code paths, Spark's Python workers, as
    in a running service); also every run's wall time."""
    run(warmup)
    walls, used = [], []
    for _ in range(repeat):
        started, before = time.perf_counter(), clock()
        run(source)
        walls.append(time.perf_counter() - started)
        used.append(clock() - before)
    return statistics.median(walls), statistics.median(used), walls


def ingest_batch(settings: Any, plan: Any, path: Path, ruleset: Any) -> Any:
    """One batch's lake work as the job does it, without the catalogue: stage (classify, raw
    and quarantine commits), the gate's pure decision, and the publish of the staged rows."""
    from datetime import UTC, datetime

    from checks.gate import decide
    from pipelines.ingest import ingest_file, publish_staged

    summary = ingest_file(
        settings, plan, path, received_at=datetime.now(UTC), as_of=ruleset.today, ruleset=ruleset
    )
    decision = decide(
        rows_read=summary.rows_read,
        rows_failed=summary.rows_quarantined,
        threshold=ruleset.threshold,
    )
    if decision.publish:
        summary.table_version = publish_staged(settings, plan, summary.batch_id).version
    return summary


REGISTRATION = "000001001/000001"  # 企业登记信息 in the demo catalogue: merged on its USCC


def registration_batch(settings: Any) -> tuple[Any, Any]:
    """(ingest plan, rule set) of the demo's registration resource in a fresh catalogue.

    Migrates ``settings``' catalogue and seeds the demo into it, as the batch benchmarks all
    start: the same resource, plan and rules, judged as of today in Beijing.
    """
    from datetime import datetime

    from catalog.context import CHINA_TZ
    from catalog.store import Catalog
    from demo.catalog import seed_demo
    from jobs.batch import _plan, _ruleset

    catalog = Catalog(settings)
    try:
        catalog.migrate()
        with catalog.unit() as ctx:
            seed_demo(ctx)
        plan = _plan(catalog, REGISTRATION)
        ruleset = _ruleset(catalog, REGISTRATION, today=datetime.now(CHINA_TZ).date())
    finally:
        catalog.dispose()
    return plan, ruleset
