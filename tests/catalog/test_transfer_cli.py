"""``govshare catalog import / export / template`` as a steward runs them, between two homes.

Commands run in-process (Typer's runner) so the round trip stays fast; the target home uses the
parametrised backend, so the import is exercised on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

CASES = Path(__file__).parent / "cases"

Invoke = Callable[..., Result]  # the ``govshare`` fixture (conftest.py)


def _server_url(database_url: str) -> str | None:
    return None if database_url.startswith("sqlite") else database_url


def _resources(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)["data"]
    for row in rows:
        row.pop("mounts")
        row.pop("version")
    return rows


def test_export_from_one_home_and_import_into_a_fresh_one_gives_back_the_catalogue(
    govshare: Invoke, tmp_path: Path, database_url: str
) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    url = _server_url(database_url)
    assert govshare(source, "init").exit_code == 0
    assert govshare(source, "catalog", "seed-demo").exit_code == 0
    workbook = tmp_path / "目录.xlsx"
    exported = govshare(source, "catalog", "export", "--format", "xlsx", "--out", str(workbook))
    assert exported.exit_code == 0, exported.output
    assert "29 个信息资源" in exported.stdout

    assert govshare(target, "init", database_url=url).exit_code == 0
    checked = govshare(
        target, "catalog", "import", str(workbook), "--dry-run", "--json", database_url=url
    )
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["dry_run"] is True
    assert _resources(govshare(target, "catalog", "list", "--json", database_url=url)) == []
    imported = govshare(target, "catalog", "import", str(workbook), database_url=url)
    assert imported.exit_code == 0, imported.output
    assert "已导入" in imported.stdout and "29 个信息资源" in imported.stdout

    before = _resources(govshare(source, "catalog", "list", "--json"))
    after = _resources(govshare(target, "catalog", "list", "--json", database_url=url))
    assert after == before


def test_import_of_a_broken_file_prints_every_problem_and_exits_1(
    govshare: Invoke, tmp_path: Path, database_url: str
) -> None:
    home, url = tmp_path / "home", _server_url(database_url)
    folder = tmp_path / "csv"
    shutil.copytree(CASES / "csv", folder)
    items = folder / "信息项.csv"
    items.write_text(
        items.read_text("utf-8").replace(",字符型,18,", ",文本,18,").replace(",200,", ",-1,"),
        "utf-8",
    )
    assert govshare(home, "init", database_url=url).exit_code == 0

    table = govshare(home, "catalog", "import", str(folder), database_url=url)
    assert table.exit_code == 1
    assert "未写入任何数据" in table.stderr
    assert "信息项.csv" in table.stderr and "数据类型" in table.stderr
    assert "Traceback" not in table.output

    as_json = govshare(home, "catalog", "import", str(folder), "--json", database_url=url)
    assert as_json.exit_code == 1
    body = json.loads(as_json.stdout)
    assert body["errorCode"] == "IMPORT_REJECTED"
    located = [(d["sheet"], d["row"], d["column"]) for d in body["details"]]
    assert located == [
        ("信息项.csv", 2, "数据类型"),
        ("信息项.csv", 3, "数据长度"),
    ]
    assert _resources(govshare(home, "catalog", "list", "--json", database_url=url)) == []


def test_csv_in_an_encoding_that_is_neither_utf8_nor_gb18030_is_refused_plainly(
    govshare: Invoke, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    assert govshare(home, "init").exit_code == 0
    path = tmp_path / "信息资源.csv"
    path.write_bytes((CASES / "csv" / "信息资源.csv").read_text("utf-8").encode("utf-16"))
    result = govshare(home, "catalog", "import", str(path))
    assert result.exit_code == 1
    assert "信息资源.csv" in result.stderr and "--encoding" in result.stderr
    assert "UTF-16" in result.stderr
    assert "Traceback" not in result.output
    forced = govshare(home, "catalog", "import", str(path), "--encoding", "utf-16", "--json")
    assert json.loads(forced.stdout)["errorCode"] == "IMPORT_REJECTED"  # read fine: no items


def test_template_and_dcat_export_from_the_command_line(govshare: Invoke, tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert govshare(home, "init").exit_code == 0
    template = tmp_path / "模板.xlsx"
    assert govshare(home, "catalog", "template", "--out", str(template)).exit_code == 0
    empty = govshare(home, "catalog", "import", str(template), "--json")
    assert json.loads(empty.stdout)["resources"] == 0

    assert govshare(home, "catalog", "seed-demo").exit_code == 0
    out = tmp_path / "catalog.jsonld"
    result = govshare(
        home, "catalog", "export", "--format", "dcat", "--out", str(out),
        "--base-uri", "https://data.example.gov.cn/catalog/", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["datasets"] == 3  # the public feed: open resources only
    graph = json.loads(out.read_text("utf-8"))
    assert graph["dcat:dataset"][0]["@id"].startswith("https://data.example.gov.cn/catalog/")
    full = govshare(
        home, "catalog", "export", "--format", "dcat", "--out", str(out), "--full",
    )  # fmt: skip
    assert full.exit_code == 0, full.output
    # Rich wraps long lines at the terminal width (the output path is long): compare unwrapped.
    assert "DCAT数据集24个（全部已发布，仅供审核员）" in "".join(full.stdout.split())
