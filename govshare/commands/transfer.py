"""``govshare catalog import`` / ``export`` / ``template``: catalogues in and out of Excel.

An import that finds problems prints all of them at once, as a table of sheet, row, column and
problem, so a steward can fix the workbook in one pass; nothing is written until it is clean.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from catalog.domain import ExportFormat
from govshare.runtime import (
    JsonFlag,
    catalog_unit,
    cli_actor,
    console,
    err_console,
    error_body,
    handle_errors,
    print_json,
)

if TYPE_CHECKING:
    from catalog.transfer import ImportReport, Issue

# catalog.transfer (the importer pulls in every catalogue service) is imported by the commands
# that use it: these commands are registered on the catalog group, so `catalog gaps` and the
# other quick commands would pay for it otherwise (issue 16).


def _issue_table(title: str, issues: list[dict[str, Any]], *, style: str) -> Table:
    table = Table(title=title, title_style=style, show_lines=False)
    for column in ("表 (sheet)", "行", "列", "问题 (problem)"):
        table.add_column(column, overflow="fold")
    for issue in issues:
        row = issue.get("row")
        table.add_row(
            str(issue.get("sheet", "")),
            "" if row is None else str(row),
            str(issue.get("column", "")),
            str(issue.get("message", "")),
        )
    return table


def _warnings(warnings: list[Issue]) -> None:
    if warnings:
        console.print(
            _issue_table(
                f"提示 {len(warnings)} 条 (warnings)",
                [w.model_dump() for w in warnings],
                style="yellow",
            )
        )


@handle_errors
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="目录文件：.xlsx 工作簿、信息资源 CSV、导出的 .json，或放着按表命名的 CSV 的文件夹"
        ),
    ],
    items: Annotated[
        Path | None, typer.Option("--items", help="信息项 CSV (data items CSV)", dir_okay=False)
    ] = None,
    departments: Annotated[
        Path | None,
        typer.Option("--departments", help="部门 CSV (departments CSV)", dir_okay=False),
    ] = None,
    duties: Annotated[
        Path | None, typer.Option("--duties", help="职责 CSV (duties CSV)", dir_okay=False)
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="CSV 编码，默认自动识别 UTF-8 或 GB18030 (CSV encoding override)"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只校验，不写入 (validate only)")
    ] = False,
    create_departments: Annotated[
        bool,
        typer.Option(
            "--create-departments",
            help="按信息资源表中的提供方名称和代码新建未登记的部门，行政区划取自代码第 3–8 位 "
            "(register providers named in the sheet)",
        ),
    ] = False,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="已在目录中的信息资源逐项比较：未变的跳过，变更的成为新版本（已发布的提交审核，"
            "待提交或已退回的直接修改）(import changes to catalogued resources)",
        ),
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """导入目录：先校验全部行，有任何错误则一条不写 (import a catalogue, all or nothing)."""
    from catalog.transfer import ImportRejected, UnreadableSource, import_catalog, read_source

    try:
        source = read_source(
            file, items=items, departments=departments, duties=duties, encoding=encoding
        )
        with catalog_unit() as ctx:
            report = import_catalog(
                ctx,
                source,
                actor=cli_actor(),
                dry_run=dry_run,
                create_departments=create_departments,
                update=update,
            )
    except (ImportRejected, UnreadableSource) as error:
        if json_output:
            print_json(error_body(error.error_code, error.message, error.details))
        err_console.print(f"[bold red]错误 (error):[/] {error.message}")
        if isinstance(error, ImportRejected) and not json_output:
            err_console.print(
                _issue_table("导入错误 (import problems)", error.details, style="bold red")
            )
        raise typer.Exit(1) from None
    if json_output:
        print_json(report)
        return
    verb = "校验通过，未写入 (dry run: valid, nothing written)" if dry_run else "已导入 (imported)"
    console.print(
        f"[green]{verb}[/]：{report.departments} 个部门，{report.duties} 项职责，"
        f"{report.resources} 个信息资源，{report.data_items} 个信息项"
    )
    if report.update:
        console.print(
            f"变更 {report.updated_resources} 个，未变 {report.unchanged_resources} 个 "
            "(changed, unchanged)"
        )
    skipped = report.skipped_departments + report.skipped_duties
    if skipped:
        console.print(
            f"已登记且内容相同而跳过：{report.skipped_departments} 个部门，"
            f"{report.skipped_duties} 项职责 (already registered, skipped)"
        )
    if report.update:
        _outcomes(report)
    else:
        _created(report)
    _interpretations(report)
    _warnings(report.warnings)


def _created(report: ImportReport) -> None:
    """What is (or on a dry run would be) created, one line per department and resource."""
    if report.created_departments:
        table = Table(title="新建部门 (departments)", title_style="cyan")
        for column in ("统一社会信用代码", "部门名称", "行政区划代码", "来源"):
            table.add_column(column)
        for d in report.created_departments:
            origin = "信息资源表的提供方" if d["from_providers"] else "部门表"
            table.add_row(d["code"], d["name"], d["region_code"], origin)
        console.print(table)
    if report.created_resources:
        table = Table(title="新建信息资源 (resources)", title_style="cyan")
        for column in ("信息资源代码", "信息资源名称", "提供方代码", "信息项", "目录状态"):
            table.add_column(column, overflow="fold")
        for r in report.created_resources:
            table.add_row(r["code"], r["name"], r["provider_code"], str(r["items"]), r["state"])
        console.print(table)


def _outcomes(report: ImportReport) -> None:
    """--update: 新增 / 变更 (with the fields) / 未变, one line per resource of the file."""
    table = Table(title="逐项比较 (per resource: created, changed, unchanged)", title_style="cyan")
    for column in ("信息资源代码", "信息资源名称", "结果", "目录状态", "变更的字段", "处理"):
        table.add_column(column, overflow="fold")
    styles = {"created": "cyan", "changed": "yellow", "unchanged": "dim"}
    for o in report.outcomes:
        fields = "、".join(c["field"] for c in o.changes)
        how = {
            "申请变更": "新版本提交审核",
            "修改": "直接修改",
            "变更待审核": "同样的变更已在审核中",
        }.get(o.action, "")
        label = f"[{styles[o.outcome]}]{o.label}[/]"
        table.add_row(o.code, o.name, label, o.state, fields, how)
    console.print(table)


def _interpretations(report: ImportReport) -> None:
    """Every reading that was not literal: the steward checks these before importing."""
    if not report.interpretations:
        return
    table = Table(
        title=f"解读 {len(report.interpretations)} 条 (interpretations)", title_style="magenta"
    )
    for column in ("表 (sheet)", "列", "解读 (how it was read)", "行"):
        table.add_column(column, overflow="fold")
    for note in report.interpretations:
        rows = "、".join(str(r) for r in note.rows[:20]) + ("…" if len(note.rows) > 20 else "")
        table.add_row(note.sheet, note.column, note.message, rows)
    console.print(table)


@handle_errors
def export_command(
    out: Annotated[Path, typer.Option("--out", help="输出文件 (output file)", dir_okay=False)],
    fmt: Annotated[
        ExportFormat,
        typer.Option("--format", help="xlsx：导入模板；json：完整目录；dcat：DCAT JSON-LD"),
    ] = ExportFormat.XLSX,
    base_uri: Annotated[
        str | None,
        typer.Option(
            help="DCAT 标识的前缀，如门户地址 (base of DCAT identifiers; default urn:govshare:)"
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="DCAT：列出全部已发布资源（仅供审核员，勿公开）；默认只列向社会开放的资源",
        ),
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """导出目录：Excel 模板、JSON，或供开放数据门户采集的 DCAT (export the catalogue)."""
    from catalog.transfer import export_catalog

    with catalog_unit() as ctx:
        summary = export_catalog(
            ctx, fmt=fmt, out=out, actor=cli_actor(), base_uri=base_uri, full=full
        )
    if json_output:
        print_json(summary)
        return
    line = (
        f"[green]已导出 (exported)[/] {summary.path}：{summary.departments} 个部门，"
        f"{summary.duties} 项职责，{summary.resources} 个信息资源，{summary.data_items} 个信息项"
    )
    if summary.datasets is not None:
        scope = "全部已发布，仅供审核员" if summary.full else "向社会开放的已发布资源"
        line += f"；DCAT 数据集 {summary.datasets} 个（{scope}）"
    console.print(line)


@handle_errors
def template_command(
    out: Annotated[Path, typer.Option("--out", help="输出文件 (output file)", dir_okay=False)],
    json_output: JsonFlag = False,
) -> None:
    """生成空白导入模板：四张表、标准列名、填写说明和下拉选项 (empty import template)."""
    from catalog.transfer import write_template

    write_template(out)
    if json_output:
        print_json({"path": str(out)})
        return
    console.print(f"[green]已生成模板 (template written)[/] {out}")


def register(catalog_app: typer.Typer) -> None:
    """Add the import, export and template commands to the catalog sub-command."""
    catalog_app.command("import")(import_command)
    catalog_app.command("export")(export_command)
    catalog_app.command("template")(template_command)
