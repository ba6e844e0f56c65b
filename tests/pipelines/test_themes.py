"""一企一档 from synthetic departmental data: 一数一源, conflicts, incremental rebuilds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from catalog.store import Catalog
from demo.synth import SynthOptions, synthesise
from jobs.batch import ingest_one, landing_files
from lake import delta
from pipelines.themes.build import build_theme, theme_tables
from pipelines.themes.spec import resolve
from tests.pipelines.conftest import REGISTRATION, registration_row, write_csv

pytestmark = pytest.mark.slow

SOURCES = {
    "scjg_enterprise_registration": REGISTRATION,
    "sw_tax_paid": "000002001/000002",
    "scjg_penalties": "000001002/000001",
}


def _spec(settings):  # type: ignore[no-untyped-def]
    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        spec = resolve(ctx.session, "enterprise")
    catalog.dispose()
    return spec


def test_enterprise_theme_takes_authoritative_values_and_reports_planted_conflicts(
    lake_settings, landing: Path
) -> None:
    result = synthesise(
        SynthOptions(out=landing, scale=300, seed=3, defect_rate=0.0, min_scale=100,
                     resources=tuple(SOURCES)),
    )  # fmt: skip
    planted = {c["key"] for c in result.manifest.conflicts if c["field"] == "企业名称"}
    assert planted, "the generator plants 企业名称 disagreements in 企业纳税信息"
    for table, code in SOURCES.items():
        for path in landing_files(lake_settings, table):
            ingest_one(lake_settings, resource_code=code, path=path)

    spec = _spec(lake_settings)
    first = build_theme(lake_settings, spec, today=date(2026, 3, 3))
    theme_ref, conflicts_ref = theme_tables(lake_settings, spec)
    rows = {r["统一社会信用代码"]: r for r in pa.table(delta.read(theme_ref)).to_pylist()}
    registration = pa.table(
        delta.read(
            delta.TableRef(lake_settings.lake_path, "validated", "scjg_enterprise_registration")
        )
    ).to_pylist()
    assert len(rows) == len({r["统一社会信用代码"] for r in registration}) == first.rows
    assert first.full and first.keys_rewritten == first.rows  # a full build rewrites every key
    some = registration[0]
    record = rows[some["统一社会信用代码"]]
    assert record["企业名称"] == some["企业名称"]  # from the authoritative source only
    provenance = dict(record["_provenance"])
    assert provenance["企业名称"]["source"] == REGISTRATION
    conflicts = pa.table(delta.read(conflicts_ref)).to_pylist()
    assert {c["统一社会信用代码"] for c in conflicts if c["field"] == "企业名称"} == planted
    assert all(c["other_source"] == "000002001/000002" for c in conflicts)

    again = build_theme(lake_settings, spec, today=date(2026, 3, 3))
    assert again.skipped and delta.version(theme_ref) == first.version

    # One enterprise changes: only its bucket is rewritten, the others keep their files.
    changed = some["统一社会信用代码"]
    update = write_csv(
        landing / "scjg_enterprise_registration" / "update.csv",
        [registration_row(1, 统一社会信用代码=changed, 企业名称="新名称有限公司")],
    )
    # Both extracts describe the same day: the later commit is the newer state of it.
    ingest_one(lake_settings, resource_code=REGISTRATION, path=update, data_date=date(2026, 3, 3))
    before_files = set(delta.live_paths(theme_ref))
    third = build_theme(lake_settings, spec, today=date(2026, 3, 3))
    assert not third.full and third.keys_rewritten == 1 and third.buckets_rewritten == 1
    after = {r["统一社会信用代码"]: r for r in pa.table(delta.read(theme_ref)).to_pylist()}
    assert after[changed]["企业名称"] == "新名称有限公司"
    assert len(after) == len(rows)
    assert len(before_files & set(delta.live_paths(theme_ref))) == len(before_files) - 1
    # A batch received before the last build's data but committed after it (a held batch
    # released later, a slow job) is still new: changes are found by commit, not by time.
    late = write_csv(
        landing / "scjg_enterprise_registration" / "late.csv",
        [registration_row(1, 统一社会信用代码=changed, 企业名称="迟到批次有限公司")],
    )
    ingest_one(
        lake_settings,
        resource_code=REGISTRATION,
        path=late,
        clock=lambda: datetime(2020, 1, 1, tzinfo=UTC),
        data_date=date(2026, 3, 3),
        as_of=date(2026, 3, 3),  # judged on the day it is run, not the day it was received
    )
    fourth = build_theme(lake_settings, spec, today=date(2026, 3, 3))
    assert not fourth.skipped and fourth.keys_rewritten == 1
    latest = {r["统一社会信用代码"]: r for r in pa.table(delta.read(theme_ref)).to_pylist()}
    assert latest[changed]["企业名称"] == "迟到批次有限公司"
    unchanged = build_theme(lake_settings, spec, today=date(2026, 3, 3))
    assert unchanged.skipped and unchanged.rows == len(rows)
    # Time travel: the first build is still readable as it was.
    old = {
        r["统一社会信用代码"]: r
        for r in pa.table(delta.read(theme_ref, version=first.version)).to_pylist()
    }
    assert old[changed]["企业名称"] == some["企业名称"]
