"""``govshare mounts``: how a resource's 库表 mount reads the provider's files.

``show`` prints the config in force (and a change waiting for review), ``set`` proposes a
change (encoding, layout, column mapping, ignored columns, defaults, units), which the steward
approves with ``review`` as any mount change (变更待审核 → 已挂接), and ``preview`` shows how a
file would map before anyone ingests it. The keys are documented in ``docs/mounts.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from govshare.runtime import JsonFlag, catalog_unit, cli_actor, console, handle_errors, print_json

mounts_app = typer.Typer(
    help="挂接配置：编码、列映射、忽略列、默认值、单位 (how a mount reads files).",
    no_args_is_help=True,
)

Code = Annotated[str, typer.Argument(help="信息资源代码：前段码/后段码 (resource code)")]


def _pairs(values: list[str], option: str) -> dict[str, str]:
    """``A=B`` options; the split is at the last ``=`` so a header may hold one."""
    out: dict[str, str] = {}
    for value in values:
        left, sep, right = value.rpartition("=")
        if not sep or not left.strip() or not right.strip():
            raise typer.BadParameter(
                f"应写作 左=右 (expected LEFT=RIGHT): {value}", param_hint=option
            )
        out[left.strip()] = right.strip()
    return out


def _units(values: list[str]) -> dict[str, dict[str, Any]]:
    """``信息项=万元`` (recorded only) or ``信息项=万元:元:10000`` (converted)."""
    out: dict[str, dict[str, Any]] = {}
    for item, spec in _pairs(values, "--unit").items():
        parts = spec.split(":")
        if len(parts) == 1:
            out[item] = {"unit": parts[0]}
        elif len(parts) == 3:
            out[item] = {"unit": parts[0], "to": parts[1], "factor": parts[2]}
        else:
            raise typer.BadParameter(
                f"应写作 信息项=万元 或 信息项=万元:元:10000 (unit or unit:to:factor): {spec}",
                param_hint="--unit",
            )
    return out


def _defaults(values: list[str]) -> dict[str, Any]:
    """``信息项=值``; ``信息项=`` alone fills the column with empty values."""
    out: dict[str, Any] = {}
    for value in values:
        item, sep, default = value.partition("=")
        if not sep or not item.strip():
            raise typer.BadParameter(
                f"应写作 信息项=值 (expected ITEM=VALUE): {value}", param_hint="--default"
            )
        out[item.strip()] = default if default != "" else None
    return out


def _table_mount(ctx: Any, code: str) -> Any:
    from catalog import repository
    from catalog.errors import NotFound
    from catalog.mounts import table_mount

    resource = repository.resource(ctx.session, code)
    mount = table_mount(resource)
    if mount is None:
        raise NotFound(f"信息资源 {code} 没有库表挂接 (no table mount)")
    return mount


def _print_config(title: str, config: dict[str, Any] | None) -> None:
    table = Table(title=title, show_header=True)
    table.add_column("键 (key)")
    table.add_column("值 (value)", overflow="fold")
    for key, value in (config or {}).items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        table.add_row(key, shown)
    console.print(table)


@mounts_app.command("show")
@handle_errors
def show(code: Code, json_output: JsonFlag = False) -> None:
    """挂接配置：生效中的配置与待审核的变更 (the config in force and any pending change)."""
    from catalog.views import mount_out

    with catalog_unit() as ctx:
        out = mount_out(_table_mount(ctx, code))
    if json_output:
        print_json(out)
        return
    console.print(f"挂接 #{out.id} {out.kind} {out.target}：{out.state}")
    _print_config("生效中的配置 (config in force)", out.config)
    if out.pending_config is not None:
        _print_config("待审核的变更 (change pending review)", out.pending_config)
    if out.review_note:
        console.print(f"审核意见：{out.review_note}")


@mounts_app.command("set")
@handle_errors
def set_config(
    code: Code,
    encoding: Annotated[str | None, typer.Option(help="文件编码，如 gb18030、utf-8")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv、xlsx、jsonl、parquet（缺省按扩展名）")
    ] = None,
    delimiter: Annotated[str | None, typer.Option(help="分隔符，如 , ; | 或 tab")] = None,
    quote: Annotated[str | None, typer.Option(help='引号字符，缺省 "')] = None,
    escape: Annotated[str | None, typer.Option(help='转义字符，缺省 "（引号加倍）')] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX 工作表名，缺省第一张")] = None,
    header_row: Annotated[
        int | None, typer.Option("--header-row", help="表头所在行（其上为标题行），缺省 1")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="文件列=信息项，如 '注册资本(万元)=注册资本'，可重复"),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="不入库的文件列，如 登记机关，可重复")
    ] = None,
    default: Annotated[
        list[str] | None,
        typer.Option("--default", help="文件缺少的选填信息项=默认值（值可为空），可重复"),
    ] = None,
    unit: Annotated[
        list[str] | None,
        typer.Option("--unit", help="信息项=万元（仅记录）或 信息项=万元:元:10000（换算），可重复"),
    ] = None,
    unset: Annotated[
        list[str] | None,
        typer.Option("--unset", help="删除键，如 sheet 或 column_mapping.经营状态，可重复"),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """申请挂接配置变更，经审核后生效 (propose a config change; a steward approves it)."""
    from catalog import services
    from catalog.mount_config import changed_config
    from catalog.schemas import MountIn
    from catalog.views import mount_out

    scalars = {
        "encoding": encoding,
        "format": fmt,
        "delimiter": delimiter,
        "quote": quote,
        "escape": escape,
        "sheet": sheet,
        "header_row": header_row,
    }
    with catalog_unit() as ctx:
        mount = _table_mount(ctx, code)
        base = mount.pending_config if mount.pending_config is not None else mount.config
        config = changed_config(
            base,
            set_keys={k: v for k, v in scalars.items() if v is not None},
            mapping=_pairs(mapping or [], "--map"),
            ignore=list(ignore or []),
            defaults=_defaults(default or []),
            units=_units(unit or []),
            unset=list(unset or []),
        )
        changed = services.request_mount_change(
            ctx,
            mount_id=mount.id,
            spec=MountIn(kind=mount.kind, target=mount.target, config=config),
            actor=cli_actor(),
        )
        out = mount_out(changed)
    if json_output:
        print_json(out)
        return
    console.print(
        f"[green]已申请变更 (change requested)[/] 挂接 #{out.id}：{out.state}，待审核后生效"
    )
    _print_config("待审核的配置 (pending config)", out.pending_config)


@mounts_app.command("review")
@handle_errors
def review(
    code: Code,
    approve: Annotated[bool, typer.Option("--approve/--return", help="通过或退回")] = True,
    reason: Annotated[str, typer.Option(help="退回理由 (reason when returning)")] = "",
    json_output: JsonFlag = False,
) -> None:
    """审核挂接或其变更 (steward: approve or return a mount or its pending change)."""
    from catalog import services
    from catalog.schemas import ReviewIn
    from catalog.views import mount_out

    with catalog_unit() as ctx:
        mount = _table_mount(ctx, code)
        decided = services.review_mount(
            ctx,
            mount_id=mount.id,
            review=ReviewIn(approve=approve, reason=reason),
            actor=cli_actor(),
        )
        out = mount_out(decided)
    if json_output:
        print_json(out)
        return
    console.print(f"挂接 #{out.id}：{out.state}")


@mounts_app.command("preview")
@handle_errors
def preview(
    file: Annotated[Path, typer.Argument(help="部门提供的文件 (the departmental file)")],
    code: Annotated[str, typer.Option("--resource", help="信息资源代码 (resource code)")],
    rows: Annotated[int, typer.Option(help="显示前几行 (rows shown)", min=1, max=100)] = 5,
    pending: Annotated[
        bool, typer.Option("--pending/--current", help="用待审核的配置（如有）或生效中的配置")
    ] = True,
    json_output: JsonFlag = False,
) -> None:
    """预览文件如何映射到信息项：编码、各列去向、缺少的信息项、前几行 (nothing is ingested)."""
    from catalog import repository
    from checks.plan import plan_for
    from pipelines.sources import preview_source

    with catalog_unit() as ctx:
        mount = _table_mount(ctx, code)
        resource = repository.resource(ctx.session, code)
        config = mount.pending_config if pending and mount.pending_config is not None else None
        plan = plan_for(resource, mount, config=config, in_service=False)
    report = preview_source(file, plan, rows=rows)
    if json_output:
        print_json(report)
        return
    encoding = report["detected_encoding"]
    if report["declared_encoding"] is not None:
        verdict = "[green]一致[/]" if report["encoding_ok"] else "[red]不一致，请设置 --encoding[/]"
        console.print(f"编码：配置 {report['declared_encoding']}，识别为 {encoding} {verdict}")
    if report["sheet"]:
        console.print(f"工作表：{report['sheet']}；表头在第 {report['header_row']} 行")
    else:
        console.print(f"表头在第 {report['header_row']} 行")
    columns = Table(title="文件列 → 信息项 (columns)")
    for name in ("文件列", "信息项", "去向"):
        columns.add_column(name)
    for column in report["columns"]:
        fate = column["fate"]
        style = {"未匹配": "red", "忽略": "yellow"}.get(fate, "")
        columns.add_row(
            column["column"], column["item"] or "", f"[{style}]{fate}[/]" if style else fate
        )
    console.print(columns)
    for item, value in report["defaults"].items():
        console.print(f"默认值：{item} = {value!r}")
    for item, spec in report["units"].items():
        to = f" → {spec['to']}（×{spec['factor']}）" if spec.get("factor") else "（仅记录单位）"
        console.print(f"单位：{item} {spec['unit']}{to}")
    if report["unmatched_columns"]:
        console.print(f"[red]未匹配的列[/]：{'、'.join(report['unmatched_columns'])}")
    if report["missing_items"]:
        console.print(f"[red]缺少的信息项[/]：{'、'.join(report['missing_items'])}")
    for guess in report["renamed_guesses"]:
        console.print(f"疑似改名：{guess}")
    sample = Table(title=f"前 {len(report['rows'])} 行 (first rows, as mapped)")
    sample.add_column("行")
    items = [c for c in (report["rows"][0] if report["rows"] else {}) if c != "_line"]
    for item in items:
        sample.add_column(item, overflow="fold")
    for row in report["rows"]:
        sample.add_row(
            str(row["_line"]), *("" if row.get(i) is None else str(row[i]) for i in items)
        )
    console.print(sample)
    verdict = "[green]可入库[/]" if report["would_ingest"] else "[red]按当前配置会整批拒收[/]"
    console.print(f"结论：{verdict}")


def register(app: typer.Typer) -> None:
    app.add_typer(mounts_app, name="mounts")
