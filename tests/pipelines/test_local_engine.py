"""Small batches without Spark give exactly what Spark gives: the same rows in every layer.

One code path for the rules (``pipelines.classify``), two drivers: Spark above
``Settings.ingest_local_max_bytes``, this process below it (``pipelines.local``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from infra.settings import Settings
from jobs.batch import ingest_one
from lake import delta
from pipelines.ingest import tables
from tests.pipelines.conftest import (
    REG_TABLE,
    REGISTRATION,
    add_steward_rules,
    company_code,
    registration_row,
    set_threshold,
    write_csv,
)

pytestmark = pytest.mark.slow
RECEIVED = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


def _layers(settings: Settings) -> dict[str, list[dict]]:
    refs = tables(settings, REG_TABLE)
    out = {}
    for layer in ("raw", "quarantine", "validated"):
        rows = pa.table(delta.read(refs[layer])).to_pylist()
        for row in rows:
            row.pop("_source_file", None)  # the landing folder differs between the two homes
        out[layer] = sorted(rows, key=lambda r: (r["_batch_id"], r["_row_number"]))
    return out


def _batches(landing: Path) -> list[Path]:
    first = [registration_row(n) for n in range(1, 41)]
    first[5] = registration_row(6, 统一社会信用代码=company_code(6)[:-1] + "0")  # check digit
    first[7] = registration_row(2)  # a duplicate key
    first[9] = registration_row(10, 注册资本="１２３.５", 成立日期="2024年3月5日")
    first[11] = registration_row(12, 企业名称="同名企业")  # "unique" rule: both fail
    first[12] = registration_row(13, 企业名称="同名企业", 成立日期="2020-13-45")
    first[20] = registration_row(21, 住所='含"引号",和逗号')
    second = [registration_row(n, 企业状态="注销") for n in (1, 2, 3)]
    second += [registration_row(n) for n in range(100, 110)]
    older = [registration_row(n, 企业状态="吊销") for n in (1, 4, 500)]
    return [
        write_csv(landing / REG_TABLE / "reg_20260302.csv", first),
        write_csv(landing / REG_TABLE / "reg_20260303.csv", second),
        write_csv(landing / REG_TABLE / "reg_20260301.csv", older),  # late and older
    ]


def test_local_and_spark_drivers_give_identical_layers(
    lake_settings: Settings, landing: Path, tmp_path: Path
) -> None:
    results = {}
    for engine, limit in (("local", 64 << 20), ("spark", 0)):
        settings = lake_settings.model_copy(
            update={
                "home": lake_settings.home / engine,
                "lake_root": str(tmp_path / engine / "lake"),
                "ingest_local_max_bytes": limit,
            }
        )
        if engine == "local":
            set_threshold(settings, 0.0, REGISTRATION)
            add_steward_rules(settings, ("企业名称", "unique", {}))
        summaries = [
            ingest_one(settings, resource_code=REGISTRATION, path=path, clock=lambda: RECEIVED)
            for path in _batches(landing / engine)
        ]
        assert {s.engine for s in summaries} == {engine}
        results[engine] = (summaries, _layers(settings))
        # The catalogue is shared by both runs: let the second run ingest the files again.
        from catalog import batches as catalog_batches
        from catalog.store import Catalog

        catalog = Catalog(settings)
        with catalog.unit() as ctx:
            for record in catalog_batches.batches(ctx):
                ctx.session.delete(record)
        catalog.dispose()
    (local_summaries, local_layers), (spark_summaries, spark_layers) = (
        results["local"], results["spark"],
    )  # fmt: skip
    counts = [
        (s.rows_read, s.rows_accepted, s.rows_quarantined, s.rows_superseded)
        for s in local_summaries
    ]
    assert counts == [
        (s.rows_read, s.rows_accepted, s.rows_quarantined, s.rows_superseded)
        for s in spark_summaries
    ]
    assert counts[0][2] == 5 and counts[2][3] == 2  # planted defects; keys 1, 4 newer already
    assert [s.reasons for s in local_summaries] == [s.reasons for s in spark_summaries]
    for layer in ("raw", "quarantine", "validated"):
        assert local_layers[layer] == spark_layers[layer], layer
    validated = {r["统一社会信用代码"]: r for r in local_layers["validated"]}
    assert validated[company_code(1)]["企业状态"] == "注销"  # 03-03 beats the late 03-01
    assert validated[company_code(4)]["企业状态"] == "存续"  # 03-02 beats the late 03-01
    assert validated[company_code(500)]["企业状态"] == "吊销"  # only the late batch has it
    assert validated[company_code(500)]["_data_date"] == date(2026, 3, 1)


def _gate_result(settings: Settings, batch_id: str) -> tuple[Any, ...]:
    from catalog import batches as catalog_batches
    from catalog.store import Catalog
    from quality import repository

    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        result = repository.result(ctx.session, batch_id)
        record = catalog_batches.batch_or_none(ctx, batch_id)
        assert record is not None
        found = (
            result.decision, result.rows_read, result.rows_failed, result.pass_rate,
            {k: v for k, v in (result.counts or {}).items() if v},
            record.status, record.details["as_of"],
        )  # fmt: skip
    catalog.dispose()
    return found


def _forget_batches(settings: Settings) -> None:
    """The catalogue forgets the batches, so the same file runs again in full."""
    from catalog import batches as catalog_batches
    from catalog.store import Catalog

    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        for record in catalog_batches.batches(ctx):
            ctx.session.delete(record)
    catalog.dispose()


def test_a_rerun_on_a_later_day_with_the_same_as_of_gives_the_same_layers_and_verdict(
    lake_settings: Settings, landing: Path, tmp_path: Path
) -> None:
    set_threshold(lake_settings, 0.9, REGISTRATION)
    rows = [registration_row(n) for n in range(1, 10)]
    rows.append(registration_row(10, 成立日期="2026-03-04"))  # after the run's date
    path = write_csv(landing / REG_TABLE / "reg.csv", rows)
    layers, verdicts = [], []
    # Run on 2026-03-03, then again six days later by the wall clock: the run's date is the
    # same (a re-run of the 03-03 run), so the 03-04 date is judged in the future both times.
    for n, now in enumerate(
        (datetime(2026, 3, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, 2, tzinfo=UTC))
    ):
        settings = lake_settings.model_copy(update={"lake_root": str(tmp_path / f"lake{n}")})
        summary = ingest_one(
            settings, resource_code=REGISTRATION, path=path, clock=lambda t=now: t,
            as_of=date(2026, 3, 3),
        )  # fmt: skip
        found = _layers(settings)
        for layer in found.values():
            for row in layer:
                for clocked in ("_received_at", "_ingested_at"):  # the wall clock, by design
                    row.pop(clocked, None)
        layers.append(found)
        verdicts.append(_gate_result(settings, summary.batch_id))
        _forget_batches(settings)
    assert layers[0] == layers[1]
    assert verdicts[0] == verdicts[1]
    decision, rows_read, rows_failed, _rate, counts, status, as_of = verdicts[0]
    assert (decision, rows_read, rows_failed, status, as_of) == (
        "published",
        10,
        1,
        "已入库",
        "2026-03-03",
    )
    assert list(counts.values()) == [1] and "not_future" in next(iter(counts))
    assert [r["_row_number"] for r in layers[0]["quarantine"]] == [10]
    assert len(layers[0]["validated"]) == 9
    assert {r["_data_date"] for r in layers[0]["validated"]} == {date(2026, 3, 3)}


def test_a_date_of_the_wall_clock_day_is_in_the_future_for_a_run_dated_the_day_before(
    lake_settings: Settings, landing: Path, tmp_path: Path
) -> None:
    set_threshold(lake_settings, 0.0, REGISTRATION)
    path = write_csv(landing / REG_TABLE / "reg.csv", [registration_row(1, 成立日期="2026-03-09")])
    # 01:00 on 2026-03-09 in Beijing, still 03-08 in UTC: the default run date is Beijing's.
    now = datetime(2026, 3, 8, 17, tzinfo=UTC)
    outcomes = {}
    for n, as_of in enumerate((date(2026, 3, 8), None)):
        settings = lake_settings.model_copy(update={"lake_root": str(tmp_path / f"lake{n}")})
        summary = ingest_one(
            settings, resource_code=REGISTRATION, path=path, clock=lambda: now, as_of=as_of
        )
        outcomes[as_of] = (summary.rows_accepted, summary.rows_quarantined, summary.reasons)
        run_date = as_of or date(2026, 3, 9)
        assert _gate_result(settings, summary.batch_id)[-1] == run_date.isoformat()
        _forget_batches(settings)
    accepted, quarantined, reasons = outcomes[date(2026, 3, 8)]
    assert (accepted, quarantined) == (0, 1)
    assert any("日期晚于当天" in reason for reason in reasons)
    assert outcomes[None] == (1, 0, {})
