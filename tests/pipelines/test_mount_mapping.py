"""A departmental extract in its own shape ingests after one ``govshare mounts set``.

The extract is what a 市场监管 system exports: GB18030, its own column names
(``注册资本(万元)``, ``经营状态``), a column the catalogue does not hold (``登记机关``), an optional
item it does not have (``行业代码``) and capital in 万元. One mapping change, approved by the
steward, makes every reader (ingest, ``quality run --file``) read it the same way, with real
Spark and a real Delta lake.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from catalog import repository
from catalog.domain import MountState
from catalog.store import Catalog
from govshare.cli import app
from infra.settings import Settings, get_settings
from jobs.batch import ingest_one
from lake import delta
from lake.errors import EncodingMismatch
from pipelines.ingest import tables
from tests.factories import STEWARD
from tests.pipelines.conftest import REG_TABLE, REGISTRATION, company_code, set_threshold

pytestmark = pytest.mark.slow

HEADERS = [
    "统一社会信用代码", "企业名称", "法定代表人", "注册资本(万元)", "成立日期", "住所",
    "行政区划代码", "经营状态", "登记机关",
]  # fmt: skip


def _row(n: int, **overrides: str) -> list[str]:
    row = {
        "统一社会信用代码": company_code(n),
        "企业名称": f"杭州测试{n}有限公司",
        "法定代表人": "张三",
        "注册资本(万元)": f"{n}.5",
        "成立日期": "2021-01-02",
        "住所": "杭州市西湖区文三路1号",
        "行政区划代码": "330106",
        "经营状态": "存续",
        "登记机关": "杭州市西湖区市场监督管理局",
    }
    row.update(overrides)
    return [row[h] for h in HEADERS]


def _extract(path: Path) -> Path:
    """Six data rows: four good, one with a bad USCC, one repeating row 1's key."""
    rows = [_row(n) for n in (1, 2, 3, 4)]
    rows.append(_row(5, 统一社会信用代码="91330106000000000X"))
    rows.append(_row(1, 企业名称="重复"))
    lines = [",".join(HEADERS), *(",".join(r) for r in rows)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    return path


def _cli(settings: Settings, *args: str) -> Any:
    env = {
        "GOVSHARE_HOME": str(settings.home),
        "GOVSHARE_DATABASE_URL": settings.database_url,
        "GOVSHARE_CONFIG": None,
        "COLUMNS": "200",
    }
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def _mount_state(settings: Settings) -> MountState:
    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        state = repository.resource(ctx.session, REGISTRATION).mounts[0].state
    catalog.dispose()
    return state


def test_gb18030_extract_with_its_own_columns_ingests_after_one_mounts_set(
    lake_settings: Settings, landing: Path
) -> None:
    set_threshold(lake_settings, 0.0, REGISTRATION)
    path = _extract(landing / REG_TABLE / "scjg_20260303.csv")

    before = _cli(
        lake_settings, "mounts", "preview", str(path), "--resource", REGISTRATION, "--json"
    )
    assert before["detected_encoding"] == "gb18030" and not before["encoding_ok"]
    assert set(before["unmatched_columns"]) == {"注册资本(万元)", "经营状态", "登记机关"}
    assert set(before["missing_items"]) == {"注册资本", "企业状态", "行业代码"}
    assert not before["would_ingest"]

    _cli(
        lake_settings,
        "mounts", "set", REGISTRATION,
        "--encoding", "gb18030",
        "--map", "注册资本(万元)=注册资本",
        "--map", "经营状态=企业状态",
        "--ignore", "登记机关",
        "--default", "行业代码=",
        "--unit", "注册资本=万元:元:10000",
    )  # fmt: skip
    assert _mount_state(lake_settings) is MountState.CHANGE_PENDING
    # Until the steward approves, the config in force still reads the file as UTF-8.
    with pytest.raises(EncodingMismatch):
        ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    pending = _cli(
        lake_settings, "mounts", "preview", str(path), "--resource", REGISTRATION, "--json"
    )
    assert pending["would_ingest"] and pending["unmatched_columns"] == []
    assert pending["rows"][0]["_line"] == 2  # the header is line 1
    assert pending["rows"][0]["注册资本"] == "1.5 → 15000.00"

    _cli(lake_settings, "mounts", "review", REGISTRATION, "--approve")
    assert _mount_state(lake_settings) is MountState.MOUNTED
    shown = _cli(lake_settings, "mounts", "show", REGISTRATION, "--json")
    assert shown["config"]["units"] == {"注册资本": {"unit": "万元", "to": "元", "factor": "10000"}}

    summary = ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    assert (summary.rows_read, summary.rows_accepted, summary.rows_quarantined) == (6, 4, 2)
    assert summary.rows_read == summary.rows_accepted + summary.rows_quarantined

    refs = tables(lake_settings, REG_TABLE)
    validated = pa.table(delta.read(refs["validated"]))
    assert validated.num_rows == 4 and "登记机关" not in validated.column_names
    by_code = {r["统一社会信用代码"]: r for r in validated.to_pylist()}
    first = by_code[company_code(1)]
    assert first["企业名称"] == "杭州测试1有限公司"  # no mojibake; the repeat is quarantined
    assert first["注册资本"] == Decimal("15000.00")  # 1.5 万元
    assert first["企业状态"] == "存续" and first["行业代码"] is None
    raw = pa.table(delta.read(refs["raw"]))
    assert raw.num_rows == 6 and "登记机关" not in raw.column_names
    assert sorted(raw["_row_number"].to_pylist()) == [1, 2, 3, 4, 5, 6]  # lake semantics kept
    assert raw.filter(pa.compute.equal(raw["_row_number"], 1))["注册资本"].to_pylist() == ["1.5"]

    quarantine = pa.table(delta.read(refs["quarantine"])).to_pylist()
    errors = {r["_row_number"]: r["_errors"] for r in quarantine}
    assert set(errors) == {5, 6}
    # The repeat (data row 6, line 7) names the row a person sees: line 2, not "row 1".
    assert errors[6] == ["主键重复，与文件第 2 行（第 1 条数据）重复 (duplicate key)"]
    [bad] = summary.sample  # the task pass's failures; the repeat is found afterwards
    assert (bad["row_number"], bad["line"], bad["where"]) == (5, 6, "文件第 6 行")

    from quality.run import check

    outcome = check(
        lake_settings, resource_code=REGISTRATION, actor=STEWARD, path=path, today=date(2026, 3, 3)
    )
    assert (outcome["rows_read"], outcome["rows_failed"]) == (6, 2)
