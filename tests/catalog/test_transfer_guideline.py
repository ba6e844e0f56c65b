"""A provincial catalogue in the national guideline's own forms imports with no hand edits.

The sheet is what stewards actually keep: 信息资源分类 written hierarchically, providers named in
the sheet but not registered, the legal basis of a 不予共享 resource in 共享条件, a blank 共享方式
on a 不予共享 row. Every interpretation the importer makes must show in the dry run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from catalog import repository
from catalog.domain import ResourceClass, ShareType
from catalog.store import Catalog
from catalog.transfer import ImportRejected, catalog_document, import_catalog, read_source
from catalog.transfer.exporters import ExportFormat, export_catalog
from tests.factories import STEWARD, make_uscc

# The guideline's fifteen resource headers, with the provincial 提供方名称 for 信息资源提供方.
HEADERS = [
    "信息资源分类", "信息资源名称", "信息资源代码", "提供方名称", "提供方代码",
    "信息资源摘要", "信息资源格式", "共享类型", "共享条件", "共享方式", "是否向社会开放",
    "开放条件", "更新周期", "发布日期", "关联资源代码",
]  # fmt: skip
MARKET = make_uscc(11, region="330106")  # 西湖区 region segment
HEALTH = make_uscc(12, region="330102")


def _sheet(path: Path) -> Path:
    rows: list[list[Any]] = [
        ["基础信息资源/法人", "企业登记信息", "000001001/000001", "市场监督管理局", MARKET,
         "企业登记", "数据库", "无条件共享", "", "接口", "否", "", "每日", "2024-03-05", ""],
        ["主题信息资源/一企一档", "企业年报", "000001001/000002", "市场监督管理局", MARKET,
         "", "数据库", "有条件共享", "经申请同意", "库表", "否", "", "每年", "2024/3/5", ""],
        ["部门信息资源/卫生健康", "病案首页", "000001001/000003", "卫生健康委员会", HEALTH,
         "", "数据库", "不予共享", "《中华人民共和国个人信息保护法》第二十八条", None, "否",
         "", "每月", "", ""],
    ]  # fmt: skip
    items = [
        ["000001001/000001", "统一社会信用代码", "C", 18],
        ["000001001/000001", "企业名称", "字符型", 200],
        ["000001001/000002", "统一社会信用代码", "C", 18],
        ["000001001/000003", "病案号", "C", 32],
    ]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "政务信息资源目录"
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    item_sheet = workbook.create_sheet("信息项")
    item_sheet.append(["信息资源代码", "信息项名称", "数据类型", "数据长度"])
    for item in items:
        item_sheet.append(item)
    workbook.save(path)
    return path


def test_guideline_sheet_imports_without_hand_edits_and_dry_run_lists_every_interpretation(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = _sheet(tmp_path / "目录.xlsx")
    with catalog.unit() as ctx:
        report = import_catalog(
            ctx, read_source(path), actor=STEWARD, dry_run=True, create_departments=True
        )
    assert (report.departments, report.resources, report.data_items) == (2, 3, 4)
    created = {d["code"]: d for d in report.created_departments}
    assert created[MARKET]["name"] == "市场监督管理局"
    assert created[MARKET]["region_code"] == "330106"
    assert created[HEALTH]["region_code"] == "330102"
    assert [r["code"] for r in report.created_resources] == [
        "000001001/000001", "000001001/000002", "000001001/000003",
    ]  # fmt: skip
    said = "\n".join(f"{i.column}: {i.message} {i.rows}" for i in report.interpretations)
    for expected in (
        "提供方名称",  # header read as 信息资源提供方
        "分类「基础」、类目「法人」",
        "分类「主题」、类目「一企一档」",
        "分类「部门」、类目「卫生健康」",
        "不予共享依据",  # basis taken from 共享条件
        "新建部门",  # providers created from the sheet
        "行政区划",  # region derived from the USCC
        "共享方式为空",  # blank on a 不予共享 row stays blank
    ):
        assert expected in said, (expected, said)
    with catalog.unit() as ctx:
        assert repository.departments(ctx.session) == []  # a dry run writes nothing

    with catalog.unit() as ctx:
        import_catalog(ctx, read_source(path), actor=STEWARD, create_departments=True)
    with catalog.unit() as ctx:
        document = catalog_document(ctx, actor=STEWARD)
    by_code = {r.code: r for r in document.resources}
    first = by_code["000001001/000001"]
    assert (first.classification, first.category) == (ResourceClass.BASE, "法人")
    closed = by_code["000001001/000003"]
    assert closed.share_type is ShareType.NOT_SHARED
    assert closed.not_shared_basis.startswith("《中华人民共和国个人信息保护法》")
    assert closed.share_condition == "" and closed.share_method is None
    assert {d.code: d.region_code for d in document.departments} == {
        MARKET: "330106",
        HEALTH: "330102",
    }

    out = tmp_path / "导出.xlsx"
    with catalog.unit() as ctx:
        export_catalog(ctx, fmt=ExportFormat.XLSX, out=out, actor=STEWARD)
    from openpyxl import load_workbook

    sheet = load_workbook(out)["信息资源"]
    header = [c.value for c in sheet[1]]
    method = header.index("共享方式")
    code = header.index("信息资源代码")
    exported = {row[code]: row[method] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert exported["000001001/000003"] is None  # not 接口
    assert exported["000001001/000001"] == "接口"


def test_providers_not_registered_are_refused_precisely_without_the_flag(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = _sheet(tmp_path / "目录.xlsx")
    with pytest.raises(ImportRejected) as caught, catalog.unit() as ctx:
        import_catalog(ctx, read_source(path), actor=STEWARD, dry_run=True)
    provider_errors = [d for d in caught.value.details if d["column"] == "提供方代码"]
    assert [d["row"] for d in provider_errors] == [2, 3, 4]
    assert all("--create-departments" in d["message"] for d in provider_errors)
    assert len(caught.value.details) == len(provider_errors)  # nothing else is wrong


def test_command_line_dry_run_prints_what_it_would_create_and_how_it_read_the_sheet(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from govshare.cli import app
    from infra.settings import get_settings

    path = _sheet(tmp_path / "目录.xlsx")
    env = {"GOVSHARE_HOME": str(tmp_path / "home"), "GOVSHARE_CONFIG": None, "COLUMNS": "240"}
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(app, ["init"], env=env).exit_code == 0
        refused = runner.invoke(app, ["catalog", "import", str(path), "--dry-run"], env=env)
        done = runner.invoke(
            app,
            ["catalog", "import", str(path), "--dry-run", "--create-departments"],
            env=env,
        )
    finally:
        get_settings.cache_clear()
    assert refused.exit_code == 1 and "--create-departments" in refused.output
    assert done.exit_code == 0, done.output
    for expected in ("新建部门", "市场监督管理局", "330106", "新建信息资源", "000001001/000003"):
        assert expected in done.output, expected
    assert "解读" in done.output and "类目「法人」" in done.output


def test_documentation_lists_every_header_alias_of_the_alias_table() -> None:
    from catalog.transfer.aliases import HEADER_ALIASES

    doc = (Path(__file__).parents[2] / "docs" / "catalog-template.md").read_text("utf-8")
    assert "catalog/transfer/aliases.py" in doc
    for fields in HEADER_ALIASES.values():
        for aliases in fields.values():
            for alias in aliases:
                assert alias in doc, alias
