"""Where a data row is in the file, as the person who made the file sees it (no Spark)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from catalog.domain import DataType
from checks.plan import IngestPlan, ItemSpec
from lake.errors import SchemaDrift
from pipelines.sources import inspect_source, preview_source

ITEMS = (
    ItemSpec("统一社会信用代码", DataType.CHAR, 18, True, True, "uscc"),
    ItemSpec("企业名称", DataType.CHAR, 200, True, False, None),
    ItemSpec("注册资本", DataType.MONEY, 18, False, False, None, Decimal(10000)),
    ItemSpec("行业代码", DataType.CHAR, 4, False, False, None),
)


def _plan(**options: object) -> IngestPlan:
    return IngestPlan(
        resource_code="000001001/000001",
        resource_name="企业登记信息",
        mount_id=1,
        table="t",
        items=ITEMS,
        keys=("统一社会信用代码",),
        **options,  # type: ignore[arg-type]
    )


def _workbook(path: Path) -> Path:
    book = Workbook()
    book.active.title = "说明"
    book.active.append(["本表由登记系统导出"])
    sheet = book.create_sheet("登记")
    sheet.append(["XX市企业登记信息（2026年3月）"])  # a title row above the header
    sheet.append(["统一社会信用代码", "企业名称", "注册资本(万元)", "登记机关"])
    sheet.append(["91330106000000001X", "甲公司", 1.5, "西湖区"])
    sheet.append([None, None, None, None])  # an empty row the reader skips
    sheet.append(["91330106000000002X", "乙公司", "2", "西湖区"])
    book.save(path)
    return path


def test_xlsx_rows_are_located_by_sheet_row_and_cell_past_title_and_empty_rows(
    tmp_path: Path,
) -> None:
    path = _workbook(tmp_path / "登记.xlsx")
    plan = _plan(
        sheet="登记",
        header_row=2,
        column_mapping={"注册资本(万元)": "注册资本"},
        ignore_columns=("登记机关",),
        defaults={"行业代码": None},
    )
    shape = inspect_source(path, plan)
    assert shape.mapping == {
        "统一社会信用代码": "统一社会信用代码",
        "企业名称": "企业名称",
        "注册资本(万元)": "注册资本",
    }
    assert shape.line_of(1) == 3 and shape.line_of(2) == 5  # row 4 is empty
    assert shape.locate(2, ["企业名称", "注册资本", "行业代码"]) == {
        "line": 5,
        "where": "工作表「登记」第 5 行",
        "sheet": "登记",
        "cells": {"企业名称": "B5", "注册资本": "C5"},  # 行业代码 has no cell: a default
    }
    report = preview_source(path, plan)
    assert report["would_ingest"] and report["unmatched_columns"] == []
    assert [r["_line"] for r in report["rows"]] == [3, 5]
    assert report["rows"][0]["注册资本"] == "1.5 → 15000.00"


def test_csv_lines_count_the_header_and_drift_suggests_mounts_set(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("统一社会信用代码;企业名称;注册资本;行业代码;备注\n1;a;1;C;x\n", "utf-8")
    shape = inspect_source(path, _plan(delimiter=";", ignore_columns=("备注",)))
    assert shape.line_of(1) == 2 and shape.where(1) == "文件第 2 行"
    with pytest.raises(SchemaDrift) as drift:
        inspect_source(path, _plan(delimiter=";"))
    assert "govshare mounts set" in drift.value.message
