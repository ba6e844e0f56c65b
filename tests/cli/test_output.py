"""What people read: Beijing time in tables, ISO with offset in JSON, identifiers never cut."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from rich.console import Console
from rich.table import Table

from govshare.commands.lake import _cell, _plain, _version_cell
from govshare.runtime import beijing, iso, whole_identifiers

LATE_UTC = datetime(2026, 3, 5, 17, 30, 5, tzinfo=UTC)  # 01:30 on 6 March in Beijing


@pytest.mark.parametrize(
    ("value", "table", "json"),
    [
        (LATE_UTC, "2026-03-06 01:30:05", "2026-03-06T01:30:05+08:00"),
        (LATE_UTC.replace(tzinfo=None), "2026-03-06 01:30:05", "2026-03-06T01:30:05+08:00"),
        (date(2026, 3, 5), "2026-03-05", "2026-03-05"),
        (None, "", None),
    ],
    ids=["aware-utc", "naive-is-utc", "date", "none"],
)
def test_times_read_in_beijing_and_carry_their_offset_in_json(value, table, json) -> None:  # type: ignore[no-untyped-def]
    assert beijing(value) == table
    assert iso(value) == json


def _render(table: Table, width: int = 80) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_identifier_columns_stay_whole_at_80_columns() -> None:
    dag = "govshare_ingest_scjg_enterprise_registration"
    table = Table()
    for header in ("DAG", "信息资源", "更新周期", "说明"):
        table.add_column(header, overflow="fold")
    table.add_row(dag, "000001001/000001", "每日", "合格率 98.75% 低于阈值，整批暂缓入库" * 2)
    assert dag not in _render(table)  # without the helper rich folds it over three lines
    whole_identifiers(table, "DAG", "信息资源")
    plain = _render(table)
    for identifier in (dag, "000001001/000001"):
        assert any(identifier in line for line in plain.splitlines()), plain
    assert "暂缓入库" in plain.replace("\n", "").replace("│", "").replace(" ", "")


def test_lake_cells_are_never_python_reprs() -> None:
    provenance = [("企业名称", {"source": "000001001/000001", "as_of": LATE_UTC})]
    cell = _cell(provenance)
    assert "datetime" not in cell and "(" not in cell
    as_of = '"as_of": "2026-03-06T01:30:05+08:00"'
    assert cell == '{"企业名称": {"source": "000001001/000001", ' + as_of + "}}"
    assert _cell(LATE_UTC) == "2026-03-06 01:30:05"
    assert _plain({"at": LATE_UTC, "days": [date(2026, 3, 5)]}) == {
        "at": "2026-03-06T01:30:05+08:00",
        "days": ["2026-03-05"],
    }


@pytest.mark.parametrize(
    ("summary", "shown"),
    [
        ({"table_version": 3}, "3"),
        ({"table_version": 0}, "0"),
        ({"table_version": None, "held": True}, "未发布 (held)"),
        ({"table_version": None, "empty": True}, "—（未变化）"),
        ({"error": "文件编码错误"}, "—"),
    ],
    ids=["published", "first-version", "held", "empty", "failed"],
)
def test_a_batch_without_a_version_never_shows_none(summary, shown) -> None:  # type: ignore[no-untyped-def]
    assert _version_cell(summary) == shown


def test_dags_env_gives_the_airflow_cli_the_platforms_home(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    env = {**os.environ, "GOVSHARE_HOME": str(tmp_path / "home")}
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    done = subprocess.run(
        [sys.executable, "-m", "govshare", "dags", "env"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    exports = dict(line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())
    assert exports["AIRFLOW_HOME"] == str(tmp_path / "home" / "airflow")
    assert exports["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("/airflow/airflow.db")
    assert exports["GOVSHARE_HOME"] == str((tmp_path / "home").resolve())
