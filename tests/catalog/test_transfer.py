"""Catalogue import and export (the steward's Excel template, CSV, JSON, DCAT), on both backends."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, text

from catalog import repository, services
from catalog.domain import DataType, ResourceClass, ResourceState, Sensitivity, ShareType
from catalog.store import Catalog
from catalog.transfer import (
    ExportFormat,
    ImportRejected,
    ImportReport,
    UnreadableSource,
    catalog_document,
    export_catalog,
    import_catalog,
    read_source,
    write_template,
)
from catalog.transfer.template import SHEETS, CellError, parse_bool, parse_date
from infra.settings import Settings
from tests import factories
from tests.factories import STEWARD, make_uscc

CASES = Path(__file__).parent / "cases"

RESOURCE_HEADERS = [
    "信息资源分类", "信息资源名称", "信息资源代码", "信息资源提供方", "提供方代码",
    "信息资源摘要", "信息资源格式", "共享类型", "共享条件", "共享方式", "是否向社会开放",
    "开放条件", "更新周期", "发布日期", "关联资源代码",
]  # fmt: skip
ITEM_HEADERS = ["信息资源代码", "信息项名称", "数据类型", "数据长度"]


# ---- helpers ---------------------------------------------------------------------------


@contextmanager
def _second_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database on the same backend as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    base = database_url.split("?", 1)[0]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def fresh_catalog(tmp_path: Path, database_url: str, clock: Any) -> Iterator[Catalog]:
    """An empty catalogue beside ``catalog``, to import an export into."""
    with _second_database(database_url, tmp_path) as url:
        store = Catalog(Settings(home=tmp_path / "fresh-home", database_url=url), clock=clock)
        store.migrate()
        try:
            yield store
        finally:
            store.dispose()


def _xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def _import(store: Catalog, path: Path, **options: Any) -> ImportReport:
    source = read_source(path, **options)
    with store.unit() as ctx:
        return import_catalog(ctx, source, actor=STEWARD)


def _rejected(store: Catalog, path: Path, **options: Any) -> list[dict[str, Any]]:
    with pytest.raises(ImportRejected) as caught:
        _import(store, path, **options)
    details: list[dict[str, Any]] = caught.value.details
    return details


def _snapshot(store: Catalog) -> dict[str, Any]:
    """What a round trip must keep: everything but mounts and version counters."""
    with store.unit() as ctx:
        document = catalog_document(ctx, actor=STEWARD)
    return {
        "departments": [d.model_dump() for d in document.departments],
        "duties": [d.model_dump() for d in document.duties],
        "resources": [r.model_dump(exclude={"mounts", "version"}) for r in document.resources],
        "themes": [t.model_dump() for t in document.themes],
        "verifications": [v.model_dump() for v in document.verifications],
    }


def _counts(store: Catalog) -> tuple[int, int, int]:
    with store.unit() as ctx:
        session = ctx.session
        return (
            len(repository.departments(session)),
            len(repository.duties(session)),
            repository.count_resources(session),
        )


# ---- round trips -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [ExportFormat.XLSX, ExportFormat.JSON], ids=["xlsx", "json"])
def test_export_then_import_into_an_empty_catalogue_gives_back_the_same_catalogue(
    demo_catalog: Catalog, fresh_catalog: Catalog, tmp_path: Path, fmt: ExportFormat
) -> None:
    out = tmp_path / f"catalogue.{fmt.value}"
    with demo_catalog.unit() as ctx:
        summary = export_catalog(ctx, fmt=fmt, out=out, actor=STEWARD)
    assert (summary.departments, summary.duties, summary.resources) == (8, 23, 29)

    report = _import(fresh_catalog, out)

    assert (report.departments, report.duties, report.resources) == (8, 23, 29)
    assert report.data_items == summary.data_items
    source, copy = _snapshot(demo_catalog), _snapshot(fresh_catalog)
    assert copy["departments"] == source["departments"]
    assert copy["duties"] == source["duties"]
    assert copy["resources"] == source["resources"]
    # Themes, their derived fields (with parameters) and the 核验事项 travel too.
    assert (report.themes, report.verifications) == (2, 5)
    assert copy["themes"] == source["themes"] and copy["verifications"] == source["verifications"]
    # Every state, flag and date survived, not just the defaults.
    assert {r["state"] for r in copy["resources"]} == set(ResourceState)
    assert any(i["authoritative"] for r in copy["resources"] for i in r["items"])
    assert any(r["publish_date"] for r in copy["resources"])
    if fmt is ExportFormat.JSON:
        assert any(w.column == "mounts" for w in report.warnings)
    else:
        assert report.warnings == []


def test_exported_workbook_has_the_four_template_sheets_with_bold_frozen_headers(
    demo_catalog: Catalog, tmp_path: Path
) -> None:
    out = tmp_path / "catalogue.xlsx"
    with demo_catalog.unit() as ctx:
        export_catalog(ctx, fmt=ExportFormat.XLSX, out=out, actor=STEWARD)
    workbook = load_workbook(out)
    assert workbook.sheetnames == [
        "信息资源",
        "信息项",
        "部门",
        "职责",
        "主题",
        "主题派生字段",
        "核验事项",
    ]
    resources = workbook["信息资源"]
    headers = [c.value for c in resources[1]]
    assert headers[: len(RESOURCE_HEADERS)] == RESOURCE_HEADERS
    assert all(c.font.bold for c in resources[1])
    assert resources.freeze_panes == "A2"
    assert resources.column_dimensions["B"].width >= 20
    assert resources.max_row == 30
    assert [c.value for c in workbook["信息项"][1]][:4] == ITEM_HEADERS
    assert workbook["部门"].max_row == 9


# ---- reading what stewards actually send ----------------------------------------------


def _expected_case_catalogue(store: Catalog) -> None:
    """The hand-written catalogue in cases/csv, as it must land whatever the file encoding."""
    with store.unit() as ctx:
        session = ctx.session
        branch = repository.department(session, make_uscc(3, "330106"))
        assert branch.parent is not None and branch.parent.code == make_uscc(2)
        assert repository.department(session, make_uscc(1)).is_data_authority
        duty = repository.duty(session, "SC-01")
        assert duty.data_items == ["统一社会信用代码", "企业名称", "法定代表人"]
        assert repository.duty(session, "SC-02").description == "组织企业报送年度报告,并向社会公示"
        first = repository.resource(session, "330100001/000001")
        assert first.classification is ResourceClass.BASE
        assert first.summary == "市场主体登记的企业基本信息，含名称、住所\n和法定代表人"
        assert first.state is ResourceState.PUBLISHED
        assert first.publish_date == date(2024, 3, 5)
        assert first.open_to_public is True
        assert first.duty is not None and first.duty.code == "SC-01"
        assert [(i.name, i.data_type, i.length) for i in first.items] == [
            ("统一社会信用代码", DataType.CHAR, 18),
            ("企业名称", DataType.CHAR, 200),
            ("法定代表人", DataType.CHAR, 50),
            ("成立日期", DataType.DATE, None),
        ]
        key = first.items[0]
        assert (key.required, key.is_key, key.authoritative) == (True, True, True)
        assert first.items[1].authoritative is True
        assert first.items[2].sensitivity is Sensitivity.PERSONAL
        assert first.items[2].mask_kind == "name"
        second = repository.resource(session, "330100001/000002")
        # 提供方代码 was left blank: found through 信息资源提供方, the registered name.
        assert second.provider.code == make_uscc(2)
        assert second.state is ResourceState.DRAFT
        assert second.share_type is ShareType.CONDITIONAL
        assert second.related_codes == ["330100001/000001"]
        assert second.items[1].data_type is DataType.INTEGER
        assert second.items[1].description == "按自然年"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_utf8_or_gb18030_imports_the_same_catalogue(
    catalog: Catalog, tmp_path: Path, encoding: str
) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    for path in (CASES / "csv").glob("*.csv"):
        (folder / path.name).write_bytes(path.read_text("utf-8").encode(encoding))

    report = _import(catalog, folder)

    assert (report.departments, report.duties, report.resources, report.data_items) == (
        3, 2, 2, 6,
    )  # fmt: skip
    _expected_case_catalogue(catalog)


def test_csv_files_can_be_named_freely_when_passed_one_by_one(
    catalog: Catalog, tmp_path: Path
) -> None:
    names = {"信息资源": "r.csv", "信息项": "i.csv", "部门": "d.csv", "职责": "p.csv"}
    for sheet, name in names.items():
        shutil.copy(CASES / "csv" / f"{sheet}.csv", tmp_path / name)
    _import(
        catalog,
        tmp_path / "r.csv",
        items=tmp_path / "i.csv",
        departments=tmp_path / "d.csv",
        duties=tmp_path / "p.csv",
        encoding="utf-8",
    )
    _expected_case_catalogue(catalog)


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        # The BOM's 0xFF starts neither a UTF-8 nor a GB18030 character.
        pytest.param("\ufeff信息资源分类".encode("utf-16-le"), "GB18030 第 0 字节",
                     id="utf-16-with-bom"),
        # Without a BOM it decodes as GB18030 until the NUL byte of the comma (0x2C 0x00).
        pytest.param("信息资源分类,信息资源名称".encode("utf-16-le"), "GB18030 第 13 字节",
                     id="utf-16-no-bom"),
        pytest.param(b"code,name\n\x81\x20broken", "GB18030 第 10 字节",
                     id="bytes-neither-decodes"),
    ],
)  # fmt: skip
def test_csv_in_another_encoding_is_refused_naming_the_file_and_byte(
    catalog: Catalog, tmp_path: Path, payload: bytes, where: str
) -> None:
    path = tmp_path / "目录.csv"
    path.write_bytes(payload)
    with pytest.raises(UnreadableSource) as caught:
        _import(catalog, path, items=path)
    message = caught.value.message
    assert "目录.csv" in message
    assert "UTF-8" in message and "GB18030" in message
    assert where in message
    assert "--encoding" in message
    assert _counts(catalog) == (0, 0, 0)


def test_big5_text_that_decodes_as_gb18030_never_imports_as_mojibake(
    catalog: Catalog, tmp_path: Path
) -> None:
    # Big5 bytes are valid GB18030, so decoding succeeds; the headers then match nothing.
    path = tmp_path / "資源.csv"
    path.write_bytes(
        "信息資源分類,信息資源名稱,信息資源代碼\n基礎,人口,000001/000001\n".encode("big5")
    )
    details = _rejected(catalog, path, items=path)
    assert details[0]["sheet"] == "資源.csv"
    assert "找不到表头" in details[0]["message"] and "--encoding" in details[0]["message"]
    assert _counts(catalog) == (0, 0, 0)


def test_explicit_encoding_that_does_not_fit_is_refused_with_the_offset(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = tmp_path / "信息资源.csv"
    path.write_bytes("信息资源分类\n".encode("gb18030"))
    with pytest.raises(UnreadableSource, match="不是 utf-8 编码：第 0 字节"):
        _import(catalog, path, encoding="utf-8")


def test_title_row_header_variants_extra_columns_and_sheet_names_are_tolerated(
    catalog: Catalog, tmp_path: Path
) -> None:
    with catalog.unit() as ctx:
        provider = factories.department(ctx, 1, name="测试市卫生健康委员会")
    resources = [
        ["测试市政务信息资源目录（2024 年版）"],
        [],
        [
            "* 信息资源分类", "信息资源名称（必填）", "信息资源　代码", " 提供方代码 ",
            "共享类型", "共享条件", "是否向社会开放", "更新周期", "发布日期", "省级备注",
            "填报人",
        ],
        [
            "主题信息资源", "出生一件事", "330100002/000001", provider.code, "有条件共享",
            "办理出生一件事", "N", "每天", datetime(2024, 3, 5), "试点", "王某",
        ],
        [
            "部门", "疫苗接种记录", "330100002/000002", provider.code, "无条件", None, "否",
            "实时", "2024年3月5日", None, None,
        ],
    ]  # fmt: skip
    items = [
        ["信息资源代码", "信息项名称", "数据类型", "数据长度(字节)", "是否主键", "省级字段"],
        ["330100002/000001", "出生医学证明编号", "C", 20, "Y", "x"],
        ["330100002/000001", "出生日期", "日期型", None, "否", None],
        ["330100002/000002", "接种记录编号", "字符型", "30", "是", None],
    ]
    path = _xlsx(
        tmp_path / "省级目录.xlsx",
        {"资源目录": resources, "Sheet2": items, "填表说明": [["请按模板填写"]]},
    )

    report = _import(catalog, path)

    assert (report.resources, report.data_items) == (2, 3)
    ignored = {(w.sheet, w.row, w.column) for w in report.warnings}
    assert ignored == {
        ("资源目录", 3, "省级备注"),
        ("资源目录", 3, "填报人"),
        ("Sheet2", 1, "省级字段"),
        ("填表说明", None, ""),
    }
    with catalog.unit() as ctx:
        birth = repository.resource(ctx.session, "330100002/000001")
        assert birth.classification is ResourceClass.THEME
        assert birth.publish_date == date(2024, 3, 5)
        assert birth.items[0].is_key and birth.items[1].data_type is DataType.DATE
        vaccine = repository.resource(ctx.session, "330100002/000002")
        assert vaccine.publish_date == date(2024, 3, 5)
        assert vaccine.share_type is ShareType.UNCONDITIONAL
        assert vaccine.items[0].length == 30


# ---- validation: everything wrong, all at once, nothing written ------------------------


def _broken_workbook(path: Path, existing_code: str) -> Path:
    new_dept, unknown = make_uscc(2), make_uscc(5)
    departments = [
        [
            "部门名称",
            "统一社会信用代码",
            "行政区划代码",
            "上级部门代码",
            "简称",
            "是否数据管理机构",
        ],
        ["新部门", new_dept, "330100", None, None, "否"],
        ["坏代码部门", "11330100000000003X", "330100", None, None, "否"],
        ["坏区划部门", make_uscc(4), "999999", make_uscc(99), None, "也许"],
    ]
    duties = [
        ["职责编码", "部门代码", "职责名称", "职责描述", "信息项"],
        ["SC-01", new_dept, "市场主体登记", None, "统一社会信用代码、企业名称"],
        ["SC-02", unknown, "未登记部门的职责", None, None],
        [None, new_dept, None, "缺编码和名称", None],
    ]
    headers = [*RESOURCE_HEADERS, "不予共享依据", "所属职责", "目录状态"]

    def resource(code: str, **cells: Any) -> list[Any]:
        row = dict.fromkeys(headers)
        row.update(
            {
                "信息资源分类": "部门", "信息资源名称": f"资源{code[-2:]}", "信息资源代码": code,
                "提供方代码": new_dept, "共享类型": "无条件共享", "更新周期": "每日",
            }
        )  # fmt: skip
        row.update(cells)
        return list(row.values())

    resources = [
        ["测试市政务数据目录"],
        headers,
        resource("330100001/000001", 所属职责="SC-01", 目录状态="已发布"),  # row 3: fine
        resource("330100001/000002", 共享类型="有条件共享"),  # 4: no 共享条件
        resource("ABC"),  # 5: bad code format
        resource("330100001/000004", 共享类型="部分共享"),  # 6: unknown enum value
        resource("330100001/000001"),  # 7: duplicate code
        resource("330100001/000006", 提供方代码=unknown),  # 8: provider not registered
        resource("330100001/000007", 共享类型="不予共享", 更新周期="每十年"),  # 9: two
        resource("330100001/000008", 发布日期="2024-02-30"),  # 10: no items, no such date
        resource(existing_code),  # 11: already catalogued
        resource("330100001/000010", 所属职责="SC-09"),  # 12: unknown duty
    ]
    items = [
        [*ITEM_HEADERS, "是否主键"],
        ["330100001/000001", "统一社会信用代码", "C", 18, "是"],
        ["330100001/000001", "企业名称", "字符", 200, None],  # 3: unknown type
        ["330100001/000001", "统一社会信用代码", "C", 18, None],  # 4: duplicate name
        ["330100001/000002", "企业名称", "C", "abc", None],  # 5: bad length
        ["ABC", "名称", "C", 10, None],
        ["330100001/000004", "名称", "C", 10, "可能"],  # 7: bad yes/no
        ["330100001/000006", "名称", "C", 10, None],
        ["330100001/000007", "名称", "C", 10, None],
        ["330100009/000999", "名称", "C", 10, None],  # 10: unknown resource
        [existing_code, "名称", "C", 10, None],
        ["330100001/000010", "名称", "C", 10, None],
        ["330100001/000001", None, "C", 10, None],  # 13: no name
    ]
    return _xlsx(
        path, {"部门": departments, "职责": duties, "信息资源": resources, "信息项": items}
    )


def test_import_reports_every_error_with_sheet_row_and_column_and_writes_nothing(
    catalog: Catalog, tmp_path: Path
) -> None:
    with catalog.unit() as ctx:
        existing = factories.resource_spec(factories.department(ctx, 1))
        services.create_resource(ctx, spec=existing, actor=STEWARD)
    before = _counts(catalog)
    path = _broken_workbook(tmp_path / "broken.xlsx", existing.code)

    details = _rejected(catalog, path)

    located = [(d["sheet"], d["row"], d["column"]) for d in details]
    assert located == [
        ("部门", 3, "统一社会信用代码"),
        ("部门", 4, "行政区划代码"),
        ("部门", 4, "上级部门代码"),
        ("部门", 4, "是否数据管理机构"),
        ("职责", 3, "部门代码"),
        ("职责", 4, "职责编码"),
        ("职责", 4, "职责名称"),
        ("信息资源", 4, "共享条件"),
        ("信息资源", 5, "信息资源代码"),
        ("信息资源", 6, "共享类型"),
        ("信息资源", 7, "信息资源代码"),
        ("信息资源", 8, "提供方代码"),
        ("信息资源", 9, "更新周期"),
        ("信息资源", 9, "不予共享依据"),
        ("信息资源", 10, "信息资源代码"),
        ("信息资源", 10, "发布日期"),
        ("信息资源", 11, "信息资源代码"),
        ("信息资源", 12, "所属职责"),
        ("信息项", 3, "数据类型"),
        ("信息项", 4, "信息项名称"),
        ("信息项", 5, "数据长度"),
        ("信息项", 7, "是否主键"),
        ("信息项", 10, "信息资源代码"),
        ("信息项", 13, "信息项名称"),
    ]
    messages = {(d["sheet"], d["row"], d["column"]): d["message"] for d in details}
    assert "可选：无条件共享、有条件共享、不予共享" in messages["信息资源", 6, "共享类型"]
    assert "与第 3 行相同" in messages["信息资源", 7, "信息资源代码"]
    assert "已存在于目录中" in messages["信息资源", 11, "信息资源代码"]
    assert "没有信息项" in messages["信息资源", 10, "信息资源代码"]
    assert "不在「部门」表中" in messages["信息资源", 8, "提供方代码"]
    assert "校验位" in messages["部门", 3, "统一社会信用代码"]
    assert "11330100000000003X" not in json.dumps(details, ensure_ascii=False)
    assert _counts(catalog) == before


def test_dry_run_validates_but_writes_nothing(catalog: Catalog, tmp_path: Path) -> None:
    source = read_source(CASES / "csv")
    with catalog.unit() as ctx:
        report = import_catalog(ctx, source, actor=STEWARD, dry_run=True)
    assert report.dry_run and report.resources == 2
    assert _counts(catalog) == (0, 0, 0)


def test_resources_csv_without_items_file_asks_for_it(catalog: Catalog) -> None:
    details = _rejected(
        catalog,
        CASES / "csv" / "信息资源.csv",
        departments=CASES / "csv" / "部门.csv",
        duties=CASES / "csv" / "职责.csv",
    )
    assert [(d["sheet"], d["row"]) for d in details] == [("信息项", None)]
    assert "--items" in details[0]["message"]


def test_missing_required_columns_are_reported_once_at_the_header(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = _xlsx(
        tmp_path / "short.xlsx",
        {
            "信息资源": [["信息资源名称", "信息资源代码"], ["人口", "330100001/000001"]],
            "信息项": [["信息资源代码", "信息项名称"], ["330100001/000001", "姓名"]],
        },
    )
    located = [(d["sheet"], d["row"], d["column"]) for d in _rejected(catalog, path)]
    assert located == [
        ("信息资源", 1, "信息资源分类"),
        ("信息资源", 1, "共享类型"),
        ("信息资源", 1, "更新周期"),
        ("信息资源", 2, "提供方代码"),
        ("信息项", 1, "数据类型"),
    ]


def test_registered_departments_and_duties_in_the_file_are_skipped_when_unchanged(
    catalog: Catalog,
) -> None:
    _import(catalog, CASES / "csv" / "部门.csv", duties=CASES / "csv" / "职责.csv")
    report = _import(
        catalog,
        CASES / "csv" / "信息资源.csv",
        items=CASES / "csv" / "信息项.csv",
        departments=CASES / "csv" / "部门.csv",
        duties=CASES / "csv" / "职责.csv",
    )
    assert (report.departments, report.skipped_departments) == (0, 3)
    assert (report.duties, report.skipped_duties) == (0, 2)
    assert report.resources == 2
    _expected_case_catalogue(catalog)


def test_unreadable_or_unsupported_files_are_refused_clearly(tmp_path: Path) -> None:
    broken = tmp_path / "目录.xlsx"
    broken.write_bytes(b"this is not a zip file")
    with pytest.raises(UnreadableSource, match=r"目录\.xlsx.*损坏"):
        read_source(broken)
    old = tmp_path / "目录.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UnreadableSource, match=r"另存为 \.xlsx"):
        read_source(old)
    with pytest.raises(UnreadableSource, match="文件不存在"):
        read_source(tmp_path / "nothing.xlsx")


def test_empty_template_lists_every_column_and_imports_as_nothing(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    workbook = load_workbook(path)
    assert workbook.sheetnames == [
        "信息资源",
        "信息项",
        "部门",
        "职责",
        "主题",
        "主题派生字段",
        "核验事项",
    ]
    header = workbook["信息资源"]["A1"]
    assert header.value == "信息资源分类" and "必填" in header.comment.text
    report = _import(catalog, path)
    assert (report.departments, report.duties, report.resources) == (0, 0, 0)


# DCAT export tests live in tests/catalog/test_dcat.py.


# ---- cell reading and the documentation ------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["2024-03-05", "2024/3/5", "2024.3.5", "2024年3月5日", " 2024 年 3 月 5 日 ", "20240305",
     20240305, datetime(2024, 3, 5), date(2024, 3, 5), 45356, "2024-03-05 00:00:00"],
)  # fmt: skip
def test_dates_are_read_in_every_way_stewards_write_them(raw: Any) -> None:
    assert parse_date(raw) == date(2024, 3, 5)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("是", True), ("否", False), ("Y", True), ("n", False), ("TRUE", True), ("false", False),
     ("1", True), ("0", False), (1, True), (0, False), (True, True)],
)  # fmt: skip
def test_yes_no_cells_accept_the_usual_spellings(raw: Any, expected: bool) -> None:
    assert parse_bool(raw) is expected


def test_cell_messages_never_repeat_an_identifier_pasted_into_the_wrong_column() -> None:
    with pytest.raises(CellError) as caught:
        parse_bool("330102199001011234")
    assert "3301021990" not in str(caught.value) and "已隐去" in str(caught.value)
    with pytest.raises(CellError, match="「也许」"):
        parse_bool("也许")


def test_documentation_lists_every_template_column() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "catalog-template.md").read_text("utf-8")
    for spec in SHEETS:
        assert f"## 「{spec.name}」" in doc
        for column in spec.columns:
            assert f"| {column.header} |" in doc, column.header


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)], ids=["022", "077"])
def test_exports_follow_the_umask_as_any_written_file_does(
    tmp_path: Path, umask: int, mode: int
) -> None:
    """Metadata only, so an export is readable to colleagues under the usual umask (it was
    0600 whatever the umask: mkstemp's mode leaked through)."""
    import os

    from catalog.transfer import write_template

    previous = os.umask(umask)
    try:
        write_template(tmp_path / "template.xlsx")
    finally:
        os.umask(previous)
    assert (tmp_path / "template.xlsx").stat().st_mode & 0o777 == mode
