"""``govshare themes``: building 一企一档 and 一人一档."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from govshare.runtime import (
    catalog_unit,
    console,
    handle_errors,
    print_json,
    settings,
    whole_identifiers,
)

themes_app = typer.Typer(help="主题库：一企一档、一人一档 (theme files).", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="机器可读的 JSON 输出 (JSON output)")]


@themes_app.command("build")
@handle_errors
def build(
    full: Annotated[bool, typer.Option("--full", help="全量重建 (rebuild every key)")] = False,
    json_output: JsonFlag = False,
) -> None:
    """从已校验数据构建主题库；默认增量，只重写来源有变化的主键 (incremental by default)."""
    from pipelines.themes.build import build_theme
    from pipelines.themes.spec import ENTERPRISE, PERSON, resolve

    with catalog_unit() as ctx:
        specs = [resolve(ctx.session, code) for code in (ENTERPRISE, PERSON)]
        today = ctx.today()
    summaries = [build_theme(settings(), spec, today=today, full=full).as_dict() for spec in specs]
    if json_output:
        print_json(summaries)
        return
    table = Table(title="主题库构建 (theme build)")
    for col in ("主题", "表", "版本", "记录数", "重写主键", "重写分桶", "冲突数", "方式"):
        table.add_column(col)
    for s in summaries:
        mode = "未变化" if s["skipped"] else ("全量" if s["full"] else "增量")
        table.add_row(
            str(s["theme"]), str(s["table"]), str(s["version"]), str(s["rows"]),
            str(s["keys_rewritten"]), str(s["buckets_rewritten"]), str(s["conflicts"]), mode,
        )  # fmt: skip
    console.print(whole_identifiers(table, "表"))
    for s in summaries:
        for warning in s["warnings"]:  # type: ignore[attr-defined]
            console.print(f"[yellow]注意[/] {s['theme']}：{warning}")


def register(app: typer.Typer) -> None:
    app.add_typer(themes_app, name="themes")
