"""Several writers on one table: nothing lost, nothing twice, the newer data wins.

Real Spark, real Delta tables, real catalogue; concurrency by real threads and by a real
process killed with SIGKILL. Where an interleaving must be exact, the competing batch is
committed from inside the first one's commit call (the moment between "read the table" and
"commit"), which is the window a second job hits in production.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from catalog import batches
from catalog.context import Actor
from catalog.store import Catalog
from infra.settings import Settings
from jobs.batch import apply_gate_order, apply_pending_orders, ingest_one
from lake import delta
from pipelines.ingest import tables
from quality import gate
from tests.pipelines.conftest import (
    REG_TABLE,
    REGISTRATION,
    company_code,
    registration_row,
    set_threshold,
    write_csv,
)

pytestmark = [pytest.mark.slow, pytest.mark.concurrency]
ROOT = Path(__file__).resolve().parents[2]


def _validated_keys(settings: Settings) -> list[str]:
    table = pa.table(delta.read(tables(settings, REG_TABLE)["validated"]))
    return sorted(table["统一社会信用代码"].to_pylist())


def _validated(settings: Settings) -> dict[str, dict[str, Any]]:
    table = pa.table(delta.read(tables(settings, REG_TABLE)["validated"]))
    return {row["统一社会信用代码"]: row for row in table.to_pylist()}


def _during_validated_commit(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]):  # type: ignore[no-untyped-def]
    """Run ``meanwhile`` once, right before the next validated-layer commit lands."""
    real = delta.commit
    state = {"fired": False}

    def commit(table: delta.TableRef, **kwargs: Any) -> int:
        if table.layer == "validated" and not state["fired"]:
            state["fired"] = True
            meanwhile()
        return real(table, **kwargs)

    monkeypatch.setattr(delta, "commit", commit)
    return state


def test_a_batch_committed_while_a_merge_runs_is_not_lost(
    lake_settings: Settings, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_threshold(lake_settings, 0.0, REGISTRATION)
    first = write_csv(landing / REG_TABLE / "reg_1.csv", [registration_row(n) for n in (1, 2)])
    ingest_one(lake_settings, resource_code=REGISTRATION, path=first)
    second = write_csv(landing / REG_TABLE / "reg_2.csv", [registration_row(n) for n in (2, 3)])
    third = write_csv(landing / REG_TABLE / "reg_3.csv", [registration_row(n) for n in (4, 5)])
    state = _during_validated_commit(
        monkeypatch, lambda: ingest_one(lake_settings, resource_code=REGISTRATION, path=third)
    )

    summary = ingest_one(lake_settings, resource_code=REGISTRATION, path=second)

    assert state["fired"]
    assert _validated_keys(lake_settings) == sorted(company_code(n) for n in range(1, 6))
    assert summary.table_version == delta.version(tables(lake_settings, REG_TABLE)["validated"])


def test_a_release_committed_while_a_merge_runs_is_not_lost(
    lake_settings: Settings, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_threshold(lake_settings, 0.0, REGISTRATION)
    first = write_csv(landing / REG_TABLE / "reg_1.csv", [registration_row(n) for n in (1, 2)])
    ingest_one(lake_settings, resource_code=REGISTRATION, path=first)
    set_threshold(lake_settings, 0.99, REGISTRATION)
    held_rows = [registration_row(n) for n in range(10, 28)]
    held_rows += [registration_row(28, 统一社会信用代码=""), registration_row(29, 成立日期="x")]
    held = ingest_one(
        lake_settings,
        resource_code=REGISTRATION,
        path=write_csv(landing / REG_TABLE / "reg_held.csv", held_rows),
    )
    assert held.held
    catalog = Catalog(lake_settings)
    with catalog.unit() as ctx:
        order = gate.release(ctx, batch_id=held.batch_id, actor=Actor.steward("审核员"))
    catalog.dispose()
    set_threshold(lake_settings, 0.0, REGISTRATION)
    # The next ingest would carry the release out first itself; here the release lands in the
    # middle of that ingest's own merge, as when a steward's CLI and a DAG run overlap.
    monkeypatch.setattr("jobs.batch.apply_pending_orders", lambda *a, **k: [])
    _during_validated_commit(monkeypatch, lambda: apply_gate_order(lake_settings, order))

    ingest_one(
        lake_settings,
        resource_code=REGISTRATION,
        path=write_csv(landing / REG_TABLE / "reg_2.csv", [registration_row(n) for n in (2, 3)]),
    )

    expected = sorted(company_code(n) for n in [1, 2, 3, *range(10, 28)])
    assert _validated_keys(lake_settings) == expected


def test_two_ingests_of_one_merge_table_at_once_keep_every_row_once(
    lake_settings: Settings, landing: Path
) -> None:
    set_threshold(lake_settings, 0.0, REGISTRATION)
    first = write_csv(landing / REG_TABLE / "reg_0.csv", [registration_row(n) for n in (1, 2)])
    ingest_one(lake_settings, resource_code=REGISTRATION, path=first)
    files = [
        write_csv(
            landing / REG_TABLE / f"reg_{w}.csv", [registration_row(100 * w + n) for n in range(50)]
        )
        for w in (1, 2, 3)
    ]
    errors: list[BaseException] = []

    def run(path: Path) -> None:
        try:
            ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
        except BaseException as error:  # reported below, with the others
            errors.append(error)

    threads = [threading.Thread(target=run, args=(f,)) for f in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    assert not errors, errors
    expected = sorted(
        company_code(n) for n in [1, 2, *(100 * w + n for w in (1, 2, 3) for n in range(50))]
    )
    assert _validated_keys(lake_settings) == expected


@pytest.mark.parametrize("order", ["newer_first", "older_first"])
def test_the_later_data_date_wins_whatever_the_commit_order(
    lake_settings: Settings, landing: Path, order: str
) -> None:
    set_threshold(lake_settings, 0.0, REGISTRATION)
    older = write_csv(
        landing / REG_TABLE / "reg_20260302.csv",
        [registration_row(1, 企业状态="存续"), registration_row(2, 企业状态="存续")],
    )
    newer = write_csv(
        landing / REG_TABLE / "reg_20260303.csv",
        [registration_row(1, 企业状态="注销"), registration_row(3)],
    )
    runs = [newer, older] if order == "newer_first" else [older, newer]
    summaries = [ingest_one(lake_settings, resource_code=REGISTRATION, path=p) for p in runs]

    rows = _validated(lake_settings)
    assert rows[company_code(1)]["企业状态"] == "注销"
    assert str(rows[company_code(1)]["_data_date"]) == "2026-03-03"
    assert sorted(rows) == sorted(company_code(n) for n in (1, 2, 3))
    late = summaries[1]
    if order == "newer_first":
        # The late, older extract does not roll key 1 back; the provider is told so.
        assert late.rows_superseded == 1
        catalog = Catalog(lake_settings)
        with catalog.unit() as ctx:
            record = batches.batch_or_none(ctx, late.batch_id)
            assert record is not None and "数据日期早于" in record.message
            assert record.details["rows_superseded"] == 1
            assert record.details["data_date"] == "2026-03-02"
        catalog.dispose()
    else:
        assert late.rows_superseded == 0


RELEASE_SCRIPT = """
import sys
from pathlib import Path
from catalog.context import Actor
from catalog.store import Catalog
from infra.settings import Settings
from jobs.batch import apply_gate_order
from quality import gate

# Spark for the lake side (not the in-process path for small files): its start-up holds the
# process in the window between the decision and the commit long enough to kill it there.
settings = Settings(home=Path(sys.argv[1]), database_url=sys.argv[2], landing_dir=Path(sys.argv[3]),
                    spark_master="local[2]", spark_shuffle_partitions=2, ingest_local_max_bytes=0)
catalog = Catalog(settings)
with catalog.unit() as ctx:
    order = gate.release(ctx, batch_id=sys.argv[4], actor=Actor.steward("审核员"))
catalog.dispose()
apply_gate_order(settings, order)   # as the CLI and the API route do, after the decision
"""


def _decision(settings: Settings, batch_id: str) -> tuple[str, str]:
    from quality import repository

    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        result = repository.result(ctx.session, batch_id)
        record = batches.batch_or_none(ctx, batch_id)
        found = (result.decision, record.status if record else "")
    catalog.dispose()
    return found


def test_a_release_killed_after_its_decision_is_completed_by_quality_apply(
    lake_settings: Settings, landing: Path, tmp_path: Path
) -> None:
    set_threshold(lake_settings, 0.99, REGISTRATION)
    rows = [registration_row(n) for n in range(1, 19)]
    rows += [registration_row(19, 统一社会信用代码=""), registration_row(20, 成立日期="x")]
    held = ingest_one(
        lake_settings,
        resource_code=REGISTRATION,
        path=write_csv(landing / REG_TABLE / "reg_1.csv", rows),
    )
    assert held.held
    script = tmp_path / "release.py"
    script.write_text(RELEASE_SCRIPT, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(script), str(lake_settings.home), lake_settings.catalog_url,
         str(landing), held.batch_id],
        cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while _decision(lake_settings, held.batch_id)[0] != gate.RELEASED:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    # The decision is recorded, the lake side never ran: the batch is stuck as it was.
    assert _decision(lake_settings, held.batch_id) == (gate.RELEASED, batches.HELD)
    assert delta.version(tables(lake_settings, REG_TABLE)["validated"]) is None

    done = apply_pending_orders(lake_settings)

    assert [order.batch_id for order, _ in done] == [held.batch_id]
    assert _decision(lake_settings, held.batch_id) == (gate.RELEASED, batches.PUBLISHED)
    assert len(_validated_keys(lake_settings)) == 18
    assert apply_pending_orders(lake_settings) == []  # nothing left, nothing done twice


INGEST_SCRIPT = """
import sys, time
from pathlib import Path
from infra.settings import Settings
from jobs.batch import ingest_one
from lake import delta

real = delta.commit

def commit(table, **kwargs):
    if table.layer == "validated":  # the publish step: the gate's decision is recorded
        Path(sys.argv[6]).write_text("publishing", encoding="utf-8")
        time.sleep(600)  # killed here, before the commit lands
    return real(table, **kwargs)

delta.commit = commit
settings = Settings(home=Path(sys.argv[1]), database_url=sys.argv[2], landing_dir=Path(sys.argv[3]),
                    batch_lease_seconds=3)
ingest_one(settings, resource_code=sys.argv[4], path=Path(sys.argv[5]))
"""


def _kill_before_publish(settings: Settings, path: Path, tmp_path: Path) -> None:
    """Run ``ingest_one`` in a process and SIGKILL it inside its publish step: after the
    gate recorded 已入库, before the validated commit."""
    script, marker = tmp_path / "ingest.py", tmp_path / "publishing"
    script.write_text(INGEST_SCRIPT, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(script), str(settings.home), settings.catalog_url,
         str(settings.landing_dir), REGISTRATION, str(path), str(marker)],
        cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize("completed_by", ["quality apply", "next ingest"])
def test_an_ingest_killed_between_its_gate_and_its_publish_is_published_once(
    lake_settings: Settings, landing: Path, tmp_path: Path, completed_by: str
) -> None:
    settings = lake_settings.model_copy(update={"batch_lease_seconds": 3})
    path = write_csv(landing / REG_TABLE / "reg_1.csv", [registration_row(n) for n in range(1, 19)])
    _kill_before_publish(settings, path, tmp_path)

    # The gate said 已入库 and the rows wait in staging; the table has none of them.
    batch_id = next(iter(_batch_ids(settings)))
    assert _decision(settings, batch_id) == (gate.PUBLISHED, batches.RUNNING)
    assert delta.version(tables(settings, REG_TABLE)["validated"]) is None

    if completed_by == "quality apply":
        time.sleep(3.5)  # the killed job's lease runs out: nobody is at the batch any more
        env = {
            **os.environ,
            "GOVSHARE_HOME": str(settings.home),
            "GOVSHARE_DATABASE_URL": settings.catalog_url,
            "GOVSHARE_BATCH_LEASE_SECONDS": "3",
        }
        done = subprocess.run(
            [sys.executable, "-m", "govshare", "quality", "apply", "--json"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
        applied = json.loads(done.stdout)["data"]
        assert [(a["batch_id"], a["action"]) for a in applied] == [(batch_id, gate.PUBLISHED)]
        assert applied[0]["rows_published"] == 18
    else:
        again = ingest_one(settings, resource_code=REGISTRATION, path=path)
        assert again.batch_id == batch_id and again.rows_accepted == 18

    assert _decision(settings, batch_id) == (gate.PUBLISHED, batches.PUBLISHED)
    assert _validated_keys(settings) == sorted(company_code(n) for n in range(1, 19))
    validated = tables(settings, REG_TABLE)["validated"]
    version = delta.version(validated)
    # Nothing is left to do, and running the file again publishes nothing twice.
    assert apply_pending_orders(settings) == []
    repeat = ingest_one(settings, resource_code=REGISTRATION, path=path)
    assert repeat.skipped and delta.version(validated) == version
    assert len(_validated_keys(settings)) == 18
    history = [e.get(delta.BATCH_KEY) for e in delta.history(validated)]
    assert history.count(batch_id) == 1


def _batch_ids(settings: Settings) -> list[str]:
    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        found = [b.batch_id for b in batches.batches(ctx, resource_code=REGISTRATION)]
    catalog.dispose()
    return found


def test_quality_apply_cli_reports_nothing_pending_as_json(lake_settings: Settings) -> None:
    env = {
        **os.environ,
        "GOVSHARE_HOME": str(lake_settings.home),
        "GOVSHARE_DATABASE_URL": lake_settings.catalog_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "govshare", "quality", "apply", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout) == {"data": [], "count": 0}


def test_two_theme_builds_at_once_leave_each_key_once_and_name_their_conflicts(
    lake_settings: Settings, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from pipelines.themes.build import build_theme, conflicts_version_of, theme_tables
    from pipelines.themes.spec import resolve

    set_threshold(lake_settings, 0.0, REGISTRATION)
    rows = [registration_row(n) for n in range(1, 6)]
    ingest_one(
        lake_settings,
        resource_code=REGISTRATION,
        path=write_csv(landing / REG_TABLE / "reg_1.csv", rows),
    )
    catalog = Catalog(lake_settings)
    with catalog.unit() as ctx:
        spec = resolve(ctx.session, "enterprise")
    catalog.dispose()
    real = delta.commit
    fired: list[int] = []

    def commit(table: delta.TableRef, **kwargs: Any) -> int:
        if table.layer == "themes" and not fired:
            fired.append(1)  # a second builder (another scheduler, a CLI run) gets there first
            build_theme(lake_settings, spec, today=date(2026, 3, 3))
        return real(table, **kwargs)

    monkeypatch.setattr(delta, "commit", commit)

    summary = build_theme(lake_settings, spec, today=date(2026, 3, 3))

    theme_ref, _conflicts_ref = theme_tables(lake_settings, spec)
    keys = pa.table(delta.read(theme_ref))[spec.key].to_pylist()
    assert fired and sorted(keys) == sorted(company_code(n) for n in range(1, 6))
    assert summary.version == delta.version(theme_ref)
    assert conflicts_version_of(theme_ref) == summary.conflicts_version
