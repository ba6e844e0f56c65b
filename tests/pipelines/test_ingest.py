"""Ingest batches through real Spark and real Delta tables on disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from catalog import batches, repository
from catalog.domain import MountState
from catalog.store import Catalog
from jobs.batch import ingest_one
from lake import delta
from lake.errors import EncodingMismatch, SchemaDrift
from pipelines.ingest import tables
from quality import repository as quality_repo
from tests.pipelines.conftest import (
    REG_HEADERS,
    REG_TABLE,
    REGISTRATION,
    add_steward_rules,
    company_code,
    registration_row,
    set_threshold,
    write_csv,
)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _row_level(lake_settings) -> None:  # type: ignore[no-untyped-def]
    """These tests pin row-level ingestion on small files with many planted defects, far
    below the 99% gate; the gate itself is pinned in test_held_batch_* and tests/quality."""
    set_threshold(lake_settings, 0.0, REGISTRATION)


def _validated(settings, version=None) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    table = pa.table(delta.read(tables(settings, REG_TABLE)["validated"], version=version))
    return {row["统一社会信用代码"]: row for row in table.to_pylist()}


def _batch(settings, batch_id):  # type: ignore[no-untyped-def]
    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        found = batches.batch_or_none(ctx, batch_id)
        mount = repository.resource(ctx.session, REGISTRATION).mounts[0]
        result = (found, mount.state, mount.last_refreshed_at)
    catalog.dispose()
    return result


def test_every_row_is_accepted_or_quarantined_with_reasons(lake_settings, landing) -> None:
    rows = [registration_row(n) for n in range(1, 11)]
    rows.append(registration_row(3, 企业名称="重复"))  # duplicate key of row 3
    rows.append(registration_row(11, 统一社会信用代码=company_code(11)[:-1] + "0"))
    rows.append(registration_row(12, 统一社会信用代码=""))
    rows.append(registration_row(13, 成立日期="2020-13-45", 注册资本="abc"))
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in company_code(14))
    rows.append(registration_row(14, 统一社会信用代码=fullwidth, 成立日期="2024年3月5日"))
    rows.append(registration_row(15, 成立日期="45000", 注册资本=" 1,234.5 ", 企业状态="\t存续\t"))
    path = write_csv(landing / REG_TABLE / "reg_1.csv", rows)

    summary = ingest_one(lake_settings, resource_code=REGISTRATION, path=path)

    assert (summary.rows_read, summary.rows_accepted, summary.rows_quarantined) == (16, 12, 4)
    assert summary.reasons == {
        "主键重复 (duplicate key)": 1,
        "统一社会信用代码：统一社会信用代码格式或校验位错误": 1,
        "统一社会信用代码：必填项为空 (required value missing)": 1,
        "成立日期：不是有效的日期型 (not a valid DATE)": 1,
        "注册资本：不是有效的货币型 (not a valid MONEY)": 1,
    }
    validated = _validated(lake_settings)
    assert validated[company_code(3)]["企业名称"] == "杭州测试3有限公司"  # first occurrence kept
    assert str(validated[company_code(14)]["成立日期"]) == "2024-03-05"
    assert str(validated[company_code(15)]["成立日期"]) == "2023-03-15"  # Excel serial
    assert float(validated[company_code(15)]["注册资本"]) == 1234.5
    assert validated[company_code(15)]["企业状态"] == "存续"  # tab padding trimmed
    quarantine = pa.table(delta.read(tables(lake_settings, REG_TABLE)["quarantine"])).to_pylist()
    assert sorted(r["_row_number"] for r in quarantine) == [11, 12, 13, 14]
    raw = pa.table(delta.read(tables(lake_settings, REG_TABLE)["raw"]))
    assert raw.num_rows == 16 and sorted(raw["_row_number"].to_pylist()) == list(range(1, 17))
    record, mount_state, refreshed = _batch(lake_settings, summary.batch_id)
    assert record.status == batches.PUBLISHED
    assert (record.rows_read, record.rows_accepted, record.rows_quarantined) == (16, 12, 4)
    assert mount_state is MountState.MOUNTED and refreshed is not None


def test_held_batch_publishes_nothing_until_a_steward_releases_it(lake_settings, landing) -> None:
    """2 bad rows in 20 (90%) under the default 99% gate: held, then released."""
    set_threshold(lake_settings, 0.99, REGISTRATION)
    rows = [registration_row(n) for n in range(1, 19)]
    rows.append(registration_row(19, 统一社会信用代码=""))
    rows.append(registration_row(20, 成立日期="2020-13-45"))
    path = write_csv(landing / REG_TABLE / "reg_1.csv", rows)
    refs = tables(lake_settings, REG_TABLE)

    summary = ingest_one(lake_settings, resource_code=REGISTRATION, path=path)

    assert summary.held and "低于阈值" in summary.hold_reason
    assert (summary.rows_read, summary.rows_accepted, summary.rows_quarantined) == (20, 18, 2)
    assert delta.version(refs["validated"]) is None  # nothing published
    assert delta.version(refs["raw"]) == 0 and delta.version(refs["quarantine"]) == 0
    record, mount_state, _ = _batch(lake_settings, summary.batch_id)
    assert record.status == batches.HELD
    assert ingest_one(lake_settings, resource_code=REGISTRATION, path=path).skipped

    from catalog.context import Actor
    from jobs.batch import apply_gate_order
    from quality import gate

    catalog = Catalog(lake_settings)
    with catalog.unit() as ctx:
        order = gate.release(ctx, batch_id=summary.batch_id, actor=Actor.steward("审核员"))
    catalog.dispose()
    version = apply_gate_order(lake_settings, order)

    assert version == 0 and len(_validated(lake_settings)) == 18
    record, mount_state, refreshed = _batch(lake_settings, summary.batch_id)
    assert record.status == batches.PUBLISHED and record.table_version == 0
    assert mount_state is MountState.MOUNTED and refreshed is not None
    assert apply_gate_order(lake_settings, order) == 0  # repeating the release changes nothing


def test_rerunning_a_batch_changes_nothing(lake_settings, landing) -> None:
    path = write_csv(landing / REG_TABLE / "reg_1.csv", [registration_row(n) for n in range(1, 6)])
    first = ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    refs = tables(lake_settings, REG_TABLE)
    versions = {layer: delta.version(ref) for layer, ref in refs.items()}
    again = ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    assert again.skipped and again.batch_id == first.batch_id
    assert {layer: delta.version(ref) for layer, ref in refs.items()} == versions
    # Even if the catalogue lost its record, the lake's own commits stop a second write.
    catalog = Catalog(lake_settings)
    with catalog.unit() as ctx:
        ctx.session.delete(batches.batch_or_none(ctx, first.batch_id))
    catalog.dispose()
    third = ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    assert not third.skipped and third.rows_accepted == 5
    assert {layer: delta.version(ref) for layer, ref in refs.items()} == versions


def test_merge_upserts_on_key_and_old_versions_stay_readable(lake_settings, landing) -> None:
    first = write_csv(landing / REG_TABLE / "reg_1.csv", [registration_row(n) for n in (1, 2)])
    ingest_one(lake_settings, resource_code=REGISTRATION, path=first)
    second = write_csv(
        landing / REG_TABLE / "reg_2.csv",
        [registration_row(2, 企业状态="注销"), registration_row(3)],
    )
    summary = ingest_one(lake_settings, resource_code=REGISTRATION, path=second)
    assert summary.table_version == 1
    now = _validated(lake_settings)
    assert set(now) == {company_code(1), company_code(2), company_code(3)}
    assert now[company_code(2)]["企业状态"] == "注销"
    before = _validated(lake_settings, version=0)
    assert before[company_code(2)]["企业状态"] == "存续" and company_code(3) not in before


PENALTIES = "000001002/000001"
PENALTY_TABLE = "scjg_penalties"
PENALTY_HEADERS = [
    "处罚决定书文号", "统一社会信用代码", "处罚事由", "处罚金额", "处罚日期", "处罚机关",
]  # fmt: skip


def penalty(n: int) -> list[str]:
    return [
        f"杭市监罚〔2026〕{n}号",
        company_code(n),
        "虚假宣传",
        "5000",
        "2026-01-05",
        "杭州市市场监管局",
    ]


def _load_base(settings, landing, numbers) -> None:  # type: ignore[no-untyped-def]
    """The 法人 base library (企业登记信息), which penalties' codes must exist in."""
    path = write_csv(landing / REG_TABLE / "base.csv", [registration_row(n) for n in numbers])
    assert not ingest_one(settings, resource_code=REGISTRATION, path=path).held


def test_event_like_source_appends_without_duplicates(lake_settings, landing) -> None:
    headers = PENALTY_HEADERS
    table = PENALTY_TABLE
    _load_base(lake_settings, landing, range(1, 4))
    one = write_csv(landing / table / "p1.csv", [penalty(1), penalty(2)], headers)
    two = write_csv(landing / table / "p2.csv", [penalty(2), penalty(3)], headers)
    ingest_one(lake_settings, resource_code="000001002/000001", path=one)
    ingest_one(lake_settings, resource_code="000001002/000001", path=two)
    rows = pa.table(delta.read(tables(lake_settings, table)["validated"])).to_pylist()
    assert sorted(r["处罚决定书文号"] for r in rows) == [
        "杭市监罚〔2026〕1号", "杭市监罚〔2026〕2号", "杭市监罚〔2026〕3号",
    ]  # fmt: skip
    newest = delta.history(tables(lake_settings, table)["validated"])[0]
    assert newest["operationParameters"]["mode"] == "Append"


def test_reference_to_an_unloaded_base_library_holds_the_batch_until_it_is_loaded(
    lake_settings, landing
) -> None:
    """Penalties' codes must exist in the 法人 base; with that table empty nothing can be
    checked, so the batch waits (暂缓入库) instead of publishing unchecked rows."""
    set_threshold(lake_settings, 0.0, PENALTIES)
    path = write_csv(
        landing / PENALTY_TABLE / "p1.csv", [penalty(1), penalty(2), penalty(9)], PENALTY_HEADERS
    )
    validated = tables(lake_settings, PENALTY_TABLE)["validated"]

    held = ingest_one(lake_settings, resource_code=PENALTIES, path=path)

    assert held.held and "基础库尚未入库" in held.hold_reason
    assert REGISTRATION in held.hold_reason  # names the base resource
    assert not delta.exists(validated)
    catalog = Catalog(lake_settings)
    with catalog.unit() as ctx:
        record = batches.batch_or_none(ctx, held.batch_id)
        assert record.status == batches.HELD and "基础库尚未入库" in record.message
        notices = [n.message for n in quality_repo.notifications(ctx.session)]
    catalog.dispose()
    assert len(notices) == 1 and "基础库尚未入库" in notices[0]  # the provider is told
    again = ingest_one(lake_settings, resource_code=PENALTIES, path=path)
    assert again.held and not delta.exists(validated)  # still waiting, nothing published
    from catalog.context import Actor
    from quality import gate
    from quality.errors import GateStateError

    catalog = Catalog(lake_settings)
    with pytest.raises(GateStateError, match="等待基础库入库"), catalog.unit() as ctx:
        gate.release(ctx, batch_id=held.batch_id, actor=Actor.steward("审核员"))  # nothing to
    catalog.dispose()  # release: the rows were never checked

    _load_base(lake_settings, landing, (1, 2))
    summary = ingest_one(lake_settings, resource_code=PENALTIES, path=path)

    assert not summary.held and not summary.skipped
    assert (summary.rows_read, summary.rows_accepted, summary.rows_quarantined) == (3, 2, 1)
    assert any("法人库中不存在" in reason for reason in summary.reasons)
    rows = pa.table(delta.read(validated)).to_pylist()
    assert sorted(r["统一社会信用代码"] for r in rows) == sorted([company_code(1), company_code(2)])
    catalog = Catalog(lake_settings)
    with catalog.unit() as ctx:
        assert batches.batch_or_none(ctx, summary.batch_id).status == batches.PUBLISHED
    catalog.dispose()


def test_wrong_encoding_is_refused_and_nothing_is_written(lake_settings, landing) -> None:
    path = write_csv(landing / REG_TABLE / "reg_gbk.csv", [registration_row(1)], encoding="gb18030")
    with pytest.raises(EncodingMismatch) as raised:
        ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    assert "UTF-8" in raised.value.message and "GB18030" in raised.value.message
    assert "第 1 行" in raised.value.message  # the Chinese header line already fails
    assert not delta.exists(tables(lake_settings, REG_TABLE)["raw"])
    record, _state, _ = _batch(lake_settings, _only_batch(lake_settings))
    assert record.status == batches.REJECTED
    assert (record.rows_read, record.rows_quarantined) == (1, 1)
    assert Path(record.details["kept_at"]).read_bytes() == path.read_bytes()


def test_declared_gb18030_source_reads_without_mojibake(lake_settings, landing) -> None:
    catalog = Catalog(lake_settings)
    with catalog.unit() as ctx:
        mount = repository.resource(ctx.session, REGISTRATION).mounts[0]
        mount.config = {**mount.config, "encoding": "GB18030"}
    catalog.dispose()
    path = write_csv(landing / REG_TABLE / "reg_gbk.csv", [registration_row(1)], encoding="gb18030")
    ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    assert _validated(lake_settings)[company_code(1)]["企业名称"] == "杭州测试1有限公司"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([*REG_HEADERS, "联系电话"], "多出列 (new): 联系电话"),
        ([h if h != "法定代表人" else "法人代表" for h in REG_HEADERS], "法人代表 → 法定代表人"),
        (REG_HEADERS[:-1], "缺少列 (missing): 行业代码"),
    ],
    ids=["new", "renamed", "missing"],
)
def test_schema_drift_rejects_the_batch_and_keeps_the_file(
    lake_settings, landing, headers, expected
) -> None:
    rows = [
        registration_row(n)[: len(headers)] + [""] * (len(headers) - len(REG_HEADERS))
        for n in (1, 2)
    ]
    path = write_csv(landing / REG_TABLE / "drift.csv", rows, headers)
    with pytest.raises(SchemaDrift) as raised:
        ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    assert expected in raised.value.message
    assert not delta.exists(tables(lake_settings, REG_TABLE)["validated"])
    record, _state, _ = _batch(lake_settings, _only_batch(lake_settings))
    assert record.status == batches.REJECTED and record.rows_read == record.rows_quarantined == 2


def _only_batch(settings) -> str:  # type: ignore[no-untyped-def]
    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        [only] = batches.batches(ctx)
        found = only.batch_id
    catalog.dispose()
    return found


def test_row_numbers_follow_the_file_across_partitions(lake_settings, landing, monkeypatch) -> None:
    rows = [registration_row(n, 企业名称=f"行{n}") for n in range(1, 30001)]
    path = write_csv(landing / REG_TABLE / "big.csv", rows)
    from pipelines.spark import spark_session

    lake_settings.ingest_local_max_bytes = 0  # Spark's partitions are what this pins
    spark = spark_session(lake_settings)
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(256 * 1024))
    try:
        ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    table = pa.table(
        delta.read(
            tables(lake_settings, REG_TABLE)["validated"], columns=["企业名称", "_row_number"]
        )
    )
    assert table.num_rows == 30000
    assert all(
        name == f"行{n}"
        for name, n in zip(
            table["企业名称"].to_pylist(), table["_row_number"].to_pylist(), strict=True
        )
    )


KILL_SCRIPT = """
import sys
from pathlib import Path
from infra.settings import Settings
from jobs.batch import ingest_one
settings = Settings(home=Path(sys.argv[1]), database_url=sys.argv[2], landing_dir=Path(sys.argv[3]),
                    spark_master="local[2]", spark_shuffle_partitions=2)
ingest_one(settings, resource_code=sys.argv[4], path=Path(sys.argv[5]))
"""


def test_job_killed_mid_write_leaves_previous_version_readable(
    lake_settings, landing, tmp_path
) -> None:
    first = write_csv(landing / REG_TABLE / "reg_1.csv", [registration_row(n) for n in (1, 2)])
    ingest_one(lake_settings, resource_code=REGISTRATION, path=first)
    validated = tables(lake_settings, REG_TABLE)["validated"]
    assert delta.version(validated) == 0
    big = write_csv(
        landing / REG_TABLE / "reg_2.csv", [registration_row(n) for n in range(3, 200_003)]
    )
    script = tmp_path / "job.py"
    script.write_text(KILL_SCRIPT, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(script), str(lake_settings.home), lake_settings.catalog_url,
         str(landing), REGISTRATION, str(big)],
        cwd=Path(__file__).resolve().parents[2],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "job.log").open("wb"),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        # Kill the job while Spark is writing the new validated files, before the commit.
        while time.monotonic() < deadline and process.poll() is None:
            if (
                any(p.is_dir() for p in validated.path.glob("b-*") if "b-" in p.name)
                and len(list(validated.path.glob("b-*"))) > 1
            ):
                break
            time.sleep(0.05)
        log = (tmp_path / "job.log").read_text(errors="replace")[-2000:]
        assert process.poll() is None, f"the job finished before it could be killed: {log}"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert delta.version(validated) == 0
    assert set(_validated(lake_settings)) == {company_code(1), company_code(2)}
    # The batch can simply be run again and completes.
    summary = ingest_one(lake_settings, resource_code=REGISTRATION, path=big)
    assert summary.rows_accepted == 200_000
    assert len(_validated(lake_settings)) == 200_002


def test_quarantined_row_lists_every_rule_it_broke_including_whole_batch_ones(
    lake_settings, landing
) -> None:
    add_steward_rules(lake_settings, ("法定代表人", "unique", {}))
    rows = [
        registration_row(1, 法定代表人="丁", 注册资本="abc"),  # a row rule and "unique"
        registration_row(2, 法定代表人="丁"),  # "unique" only
        registration_row(3, 法定代表人="甲"),
    ]
    path = write_csv(landing / REG_TABLE / "unique.csv", rows)
    summary = ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    assert (summary.rows_read, summary.rows_accepted, summary.rows_quarantined) == (3, 1, 2)
    quarantine = pa.table(delta.read(tables(lake_settings, REG_TABLE)["quarantine"])).to_pylist()
    errors = {r["_row_number"]: sorted(r["_errors"]) for r in quarantine}
    assert set(errors) == {1, 2}
    assert len(errors[1]) == 2 and any(e.startswith("注册资本") for e in errors[1])
    assert all(any(e.startswith("法定代表人：取值唯一") for e in errors[n]) for n in (1, 2))
    counted = sum(v for k, v in summary.reasons.items() if k.startswith("法定代表人"))
    assert counted == 2 == sum(len(e) for e in errors.values()) - 1
