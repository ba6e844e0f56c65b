"""Journey 4 of issue 18: a steward uploads a catalogue workbook with two errors and sees both
located (sheet, row, column) with nothing written; the corrected workbook is checked, then
imported. Departments may neither import nor export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook

from tests.console.console_server import Served, Visit

RESOURCE_HEADERS = [
    "信息资源分类", "信息资源名称", "信息资源代码", "信息资源提供方", "提供方代码",
    "信息资源摘要", "信息资源格式", "共享类型", "共享条件", "共享方式", "是否向社会开放",
    "开放条件", "更新周期", "发布日期", "关联资源代码",
]  # fmt: skip
ITEM_HEADERS = ["信息资源代码", "信息项名称", "数据类型", "数据长度"]
CODE = "000099003/000001"
NAME = "建筑施工许可信息"


def _workbook(path: Path, *, share_type: str, data_type: str, provider: str) -> Path:
    row: dict[str, Any] = dict.fromkeys(RESOURCE_HEADERS)
    row.update(
        {
            "信息资源分类": "部门", "信息资源名称": NAME, "信息资源代码": CODE,
            "提供方代码": provider, "共享类型": share_type, "更新周期": "每日",
        }
    )  # fmt: skip
    book = Workbook()
    book.remove(book.active)
    resources = book.create_sheet("信息资源")
    resources.append(RESOURCE_HEADERS)
    resources.append(list(row.values()))
    items = book.create_sheet("信息项")
    items.append(ITEM_HEADERS)
    items.append([CODE, "施工许可证编号", "C", 30])
    items.append([CODE, "发证日期", data_type, None])
    book.save(path)
    return path


def _found(served: Served) -> int:
    with httpx.Client(
        base_url=f"{served.url}/api/v1", headers={"X-API-Key": served.keys["steward"]}
    ) as api:
        count: int = api.get("/resources", params={"q": NAME}).json()["count"]
    return count


def test_workbook_with_two_errors_is_refused_with_both_located_and_nothing_written(
    served: Served, visit: Callable[[], Visit], tmp_path: Path
) -> None:
    provider = served.department("other")
    broken = _workbook(
        tmp_path / "目录.xlsx", share_type="部分共享", data_type="日期", provider=provider
    )
    v = visit()
    page = v.page
    v.sign_in("steward")
    v.goto("/transfer", "transfer")
    page.set_input_files("#workbook", str(broken))
    page.locator("#write").check()  # even when asked to write, a rejected file writes nothing
    page.locator("#upload").click()
    page.locator("#import-errors").wait_for()
    v.shot("import-errors")
    rows = page.locator("#import-errors tbody tr")
    assert rows.count() == 2
    located = [
        [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()[:3]] for i in range(2)
    ]
    assert ["信息资源", "2", "共享类型"] in located
    assert ["信息项", "3", "数据类型"] in located
    assert "未写入任何数据" in page.locator("#import-message").inner_text()
    assert _found(served) == 0

    fixed = _workbook(
        tmp_path / "目录-改.xlsx", share_type="无条件共享", data_type="D", provider=provider
    )
    page.set_input_files("#workbook", str(fixed))
    page.locator("#upload").click()  # 仅校验 (dry run)
    page.locator("#import-outcome").wait_for()
    assert "校验通过（未写入）" in page.locator("#import-outcome").inner_text()
    assert _found(served) == 0
    page.set_input_files("#workbook", str(fixed))
    page.locator("#write").check()
    page.locator("#upload").click()
    page.get_by_role("heading", name="已导入").wait_for()
    v.shot("imported")
    assert _found(served) == 1

    with page.expect_download() as download:
        page.get_by_role("link", name="下载 xlsx").click()
    assert download.value.suggested_filename == "govshare-catalogue.xlsx"


def test_departments_can_neither_import_nor_export(
    served: Served, visit: Callable[[], Visit]
) -> None:
    v = visit()
    v.sign_in("provider")
    assert v.page.get_by_role("link", name="导入导出").count() == 0
    assert v.goto("/transfer", "no-import").status == 403
    answer = v.page.request.get("/transfer/export?format=json")
    assert answer.status == 403
