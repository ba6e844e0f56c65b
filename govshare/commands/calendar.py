"""``govshare calendar``: the State Council's yearly holiday notice, imported as data.

Deadlines are counted in working days. For a year the holiday package does not know, they
are provisional until a steward imports that year's notice here; the import counts every
open deadline again and prints what moved. The file format is in ``docs/calendar.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from catalog.workdays import PROVISIONAL_NOTE
from catalog.workdays_notices import import_holiday_notice, list_holiday_notices, read_notice
from govshare.runtime import (
    JsonFlag,
    catalog_unit,
    cli_actor,
    console,
    handle_errors,
    print_json,
    print_list,
)

calendar_app = typer.Typer(
    help="节假日安排：导入国务院办公厅每年的放假通知 (holiday calendar).", no_args_is_help=True
)


@calendar_app.command("import")
@handle_errors
def import_command(
    file: Annotated[
        Path,
        typer.Argument(help="节假日安排文件 .toml 或 .json (see docs/calendar.md)", dir_okay=False),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只校验并显示会改变的期限，不写入 (validate only)")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """导入某年节假日安排，并重算未办结需求的办结期限 (import a year's holiday notice)."""
    notice = read_notice(file)
    with catalog_unit() as ctx:
        report = import_holiday_notice(ctx, notice=notice, actor=cli_actor(), dry_run=dry_run)
    if json_output:
        print_json(report)
        return
    done = report.notice
    verb = "校验通过，未写入 (dry run)" if dry_run else "已导入 (imported)"
    replaced = "，替换此前导入的同年安排" if report.replaced else ""
    console.print(
        f"[green]{verb}[/]：{done.year} 年节假日安排 {len(done.holidays)} 个假期，"
        f"放假 {done.days_off} 天，调休上班 {done.workdays} 天{replaced}"
    )
    if not report.recomputed:
        console.print("没有需要重算的办结期限 (no open deadline moved)")
        return
    table = Table(title=f"重算办结期限 {len(report.recomputed)} 条 (deadlines recomputed)")
    for column in ("需求编号", "原期限", "新期限"):
        table.add_column(column)
    for change in report.recomputed:
        after = change.after.isoformat() + (PROVISIONAL_NOTE if change.provisional else "")
        table.add_row(change.demand_code, change.before.isoformat(), after)
    console.print(table)


@calendar_app.command("show")
@handle_errors
def show_command(json_output: JsonFlag = False) -> None:
    """列出已导入的节假日安排 (imported holiday notices)."""
    with catalog_unit() as ctx:
        notices = list_holiday_notices(ctx)
    if json_output:
        print_list(notices)
        return
    if not notices:
        console.print("尚未导入节假日安排；内置日历之外的年份，期限为暂定 (none imported)")
        return
    for notice in notices:
        table = Table(title=f"{notice.year} 年 {notice.title}".strip())
        for column in ("假期", "放假日期", "调休上班"):
            table.add_column(column)
        for period in notice.holidays:
            table.add_row(
                period.name,
                f"{period.start.isoformat()} 至 {period.end.isoformat()}",
                "、".join(day.isoformat() for day in period.workdays),
            )
        console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(calendar_app, name="calendar")
