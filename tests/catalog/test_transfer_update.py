"""``govshare catalog import --update``: a steward re-imports the workbook she exported and edited.

Unchanged resources are skipped; a changed draft is edited in place; a changed published
resource gets its next version proposed for review while the published one stays in force.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import Result

Invoke = Callable[..., Result]  # the ``govshare`` fixture (conftest.py)

PUBLISHED = "000002001/000001"  # 纳税信用等级信息, published in the demo catalogue
DRAFT = "000007002/000002"  # 住房保障资格信息, 待提交 in the demo catalogue
NEW_SUMMARY = "按年度评定的纳税信用等级（A、B、M、C、D），每年四月更新"


def _edit(workbook: Path) -> str:
    """Change the published resource's summary and one data item of the draft; return the
    name of that item."""
    book = openpyxl.load_workbook(workbook)
    resources, items = book["信息资源"], book["信息项"]
    headers = [cell.value for cell in resources[1]]
    code_col, summary_col = headers.index("信息资源代码"), headers.index("信息资源摘要")
    for row in resources.iter_rows(min_row=2):
        if row[code_col].value == PUBLISHED:
            row[summary_col].value = NEW_SUMMARY
    item_headers = [cell.value for cell in items[1]]
    code_col, name_col = item_headers.index("信息资源代码"), item_headers.index("信息项名称")
    length_col = item_headers.index("数据长度")
    edited = ""
    for row in items.iter_rows(min_row=2):
        if row[code_col].value == DRAFT and not edited:
            edited = str(row[name_col].value)
            row[length_col].value = 321
    book.save(workbook)
    return edited


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def exported(govshare: Invoke, tmp_path: Path) -> tuple[Path, Path]:
    home, workbook = tmp_path / "home", tmp_path / "目录.xlsx"
    assert govshare(home, "init").exit_code == 0
    assert govshare(home, "catalog", "seed-demo").exit_code == 0
    done = govshare(home, "catalog", "export", "--out", str(workbook))
    assert done.exit_code == 0, done.output
    return home, workbook


def test_reimport_without_update_is_refused_and_names_the_update_option(
    govshare: Invoke, exported: tuple[Path, Path]
) -> None:
    home, workbook = exported
    refused = govshare(home, "catalog", "import", str(workbook), "--json")
    assert refused.exit_code == 1
    body = json.loads(refused.stdout)
    assert set(body) == {"errorCode", "message", "details"}
    assert body["errorCode"] == "IMPORT_REJECTED"
    assert len(body["details"]) == 29
    assert all("--update" in issue["message"] for issue in body["details"])
    assert "导入被拒绝" in refused.stderr


def test_update_import_of_an_edited_export_changes_exactly_the_two_edited_resources(
    govshare: Invoke, exported: tuple[Path, Path]
) -> None:
    home, workbook = exported
    unchanged = _json(govshare(home, "catalog", "import", str(workbook), "--update", "--json"))
    assert (unchanged["updated_resources"], unchanged["unchanged_resources"]) == (0, 29)
    item = _edit(workbook)

    dry = govshare(home, "catalog", "import", str(workbook), "--update", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "变更 2 个，未变 27 个" in dry.stdout
    assert "新版本提交审核" in dry.stdout and "直接修改" in dry.stdout
    report = _json(
        govshare(home, "catalog", "import", str(workbook), "--update", "--dry-run", "--json")
    )
    outcomes = {o["code"]: o for o in report["outcomes"]}
    assert len(outcomes) == 29
    changed = {code: o for code, o in outcomes.items() if o["outcome"] != "unchanged"}
    assert set(changed) == {PUBLISHED, DRAFT}
    assert [c["field"] for c in changed[PUBLISHED]["changes"]] == ["summary"]
    assert changed[PUBLISHED]["changes"][0]["after"] == NEW_SUMMARY
    assert changed[PUBLISHED]["action"] == "申请变更"
    assert [c["field"] for c in changed[DRAFT]["changes"]] == [f"items.{item}.length"]
    assert changed[DRAFT]["label"] == "变更" and changed[DRAFT]["action"] == "修改"
    # The dry run wrote nothing.
    shown = _json(govshare(home, "catalog", "show", PUBLISHED, "--json"))
    assert shown["pending_revision"] is None and shown["history"][-1]["action"] != "申请变更"

    done = govshare(
        home, "--as", "steward:张三", "catalog", "import", str(workbook), "--update", "--json"
    )
    assert _json(done)["updated_resources"] == 2

    # The draft is edited in place: a second version, 待提交 still.
    draft = _json(govshare(home, "catalog", "show", DRAFT, "--json"))
    assert draft["versions"] == [1, 2] and draft["resource"]["state"] == "待提交"
    assert draft["history"][-1]["action"] == "修改" and draft["history"][-1]["actor"] == "张三"
    assert next(i for i in draft["resource"]["items"] if i["name"] == item)["length"] == 321

    # The published resource keeps serving version 1; version 2 waits for a steward.
    published = _json(govshare(home, "catalog", "show", PUBLISHED, "--json"))
    assert published["resource"]["summary"] != NEW_SUMMARY
    assert published["resource"]["state"] == "已发布" and published["versions"] == [1]
    assert published["pending_revision"]["summary"] == NEW_SUMMARY
    request = published["history"][-1]
    assert (request["action"], request["actor"]) == ("申请变更", "张三")
    assert request["after"]["proposed_version"] == 2
    # Imported again, the same change is not proposed twice over.
    again = _json(govshare(home, "catalog", "import", str(workbook), "--update", "--json"))
    assert (again["updated_resources"], again["unchanged_resources"]) == (0, 29)
    assert {o["action"] for o in again["outcomes"] if o["code"] == PUBLISHED} == {"变更待审核"}
    history = _json(govshare(home, "catalog", "show", PUBLISHED, "--json"))["history"]
    assert [h["action"] for h in history].count("申请变更") == 1

    reviewed = govshare(home, "--as", "李审核", "catalog", "review", PUBLISHED, "--json")
    assert _json(reviewed)["version"] == 2
    published = _json(govshare(home, "catalog", "show", PUBLISHED, "--json"))
    assert published["resource"]["summary"] == NEW_SUMMARY
    assert published["versions"] == [1, 2] and published["pending_revision"] is None
    approval = published["history"][-1]
    assert (approval["action"], approval["actor"]) == ("变更通过", "李审核")
    final = _json(govshare(home, "catalog", "import", str(workbook), "--update", "--json"))
    assert (final["updated_resources"], final["unchanged_resources"]) == (0, 29)


def test_a_returned_change_leaves_the_published_version_in_force(
    govshare: Invoke, exported: tuple[Path, Path]
) -> None:
    home, workbook = exported
    _edit(workbook)
    assert govshare(home, "catalog", "import", str(workbook), "--update").exit_code == 0
    no_reason = govshare(home, "catalog", "review", PUBLISHED, "--return", "--json")
    assert no_reason.exit_code == 1
    assert json.loads(no_reason.stdout)["errorCode"] == "VALIDATION_ERROR"
    returned = govshare(
        home, "catalog", "review", PUBLISHED, "--return", "--reason", "摘要需注明依据"
    )
    assert returned.exit_code == 0, returned.output
    shown = _json(govshare(home, "catalog", "show", PUBLISHED, "--json"))
    assert shown["pending_revision"] is None and shown["versions"] == [1]
    assert shown["resource"]["summary"] != NEW_SUMMARY
    assert shown["history"][-1]["action"] == "变更退回"
    assert shown["history"][-1]["after"]["note"] == "摘要需注明依据"
