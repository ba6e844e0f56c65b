"""``govshare ingest`` and ``govshare lake``: loading departmental files and looking at tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from govshare.runtime import (
    JsonFlag,
    beijing,
    console,
    err_console,
    fail,
    handle_errors,
    iso,
    print_list,
    settings,
    whole_identifiers,
)
from govshare.runtime import run_date as run_date_of
from infra.errors import GovshareError

lake_app = typer.Typer(help="数据湖：表的版本与回溯 (lakehouse tables).", no_args_is_help=True)

LAYERS = ("raw", "validated", "quarantine", "themes")


def _version_cell(summary: dict[str, object]) -> str:
    """The validated table's version this batch produced; a held, empty or failed batch
    published nothing, which a bare ``None`` hid."""
    version = summary.get("table_version")
    if version is not None:
        return str(version)
    if summary.get("error"):
        return "—"
    if summary.get("held"):
        return "未发布 (held)"
    return "—（未变化）"


def _render(summaries: list[dict[str, object]]) -> None:
    table = Table(title="入库批次 (ingest batches)")
    for col in ("信息资源", "文件", "读取", "入库", "隔离", "版本", "状态"):
        table.add_column(col, overflow="fold")
    for s in summaries:
        status = s.get("error") or (
            "暂缓入库 (held)" if s.get("held") else "空批次 (empty)" if s.get("empty") else "已入库"
        )
        if s.get("skipped") and not s.get("error"):
            status = f"{status}（重复批次，未改变）"
        table.add_row(
            str(s["resource_code"]),
            Path(str(s["source_file"])).name,
            str(s.get("rows_read", "")),
            str(s.get("rows_accepted", "")),
            str(s.get("rows_quarantined", "")),
            _version_cell(s),
            str(status),
        )
    console.print(whole_identifiers(table, "信息资源"))
    for s in summaries:
        reasons: dict[str, int] = s.get("reasons") or {}  # type: ignore[assignment]
        for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            console.print(f"  [yellow]{s['resource_code']}[/] 隔离原因 {reason}：{count} 行")
    for s in summaries:
        if s.get("empty"):
            console.print(f"[yellow]警告 (warning)[/] {s['resource_code']}：{s.get('warning', '')}")
    held = [s for s in summaries if s.get("held")]
    for s in held:
        console.print(
            f"[red]暂缓入库[/] {s['resource_code']} 批次 {s['batch_id']}："
            f"{s.get('hold_reason', '')}"
        )
    if held:
        console.print(
            "审核员可查看 govshare quality report 信息资源代码，"
            "并 govshare quality release / reject 批次号 (a steward releases or rejects)"
        )


@handle_errors
def ingest(
    resource_code: Annotated[
        str | None, typer.Argument(help="信息资源代码：前段码/后段码 (resource code)")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="源文件；缺省取落地目录中的全部文件")
    ] = None,
    all_resources: Annotated[
        bool, typer.Option("--all", help="所有已挂接库表的资源 (every mounted resource)")
    ] = False,
    data_date: Annotated[
        datetime | None,
        typer.Option(
            "--data-date",
            formats=["%Y-%m-%d"],
            help="数据日期（缺省取文件名中的日期，否则为接收当日）(the date the data describes)",
        ),
    ] = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="运行日期，用于“日期不得晚于当天”等规则（缺省为北京时间今天）(the run's date)",
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """运行入库批次：读取、标准化、质检、隔离、达标后入湖 (run ingest batches without Airflow).

    每一行或入库或隔离（附原因）；合格率低于阈值的批次暂缓入库，等待审核员放行或退回。
    """
    from jobs.batch import ingest_one, ingestable_resources, landing_files

    cfg = settings()
    if all_resources == (resource_code is not None):
        raise typer.BadParameter(
            "请给出一个信息资源代码，或使用 --all (one resource code or --all)"
        )
    if file is not None and all_resources:
        raise typer.BadParameter("--file 只能与单个信息资源一起使用")
    work: list[tuple[str, Path]] = []
    if all_resources:
        for code, table in ingestable_resources(cfg):
            work.extend((code, path) for path in landing_files(cfg, table))
    elif file is not None:
        work.append((resource_code or "", file))
    else:
        from catalog import batches, repository
        from govshare.runtime import catalog_unit

        with catalog_unit() as ctx:
            resource = repository.resource(ctx.session, resource_code or "")
            table = batches.ensure_table_mount(ctx, resource).target
        work.extend((resource_code or "", p) for p in landing_files(cfg, table))
        if not work:
            raise typer.BadParameter(f"落地目录中没有文件 (no files in) {cfg.landing_dir / table}")
    run_date = run_date_of(as_of)
    summaries: list[dict[str, object]] = []
    failed = 0
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console
    ) as progress:
        task = progress.add_task("入库 (ingest)", total=len(work))
        for code, path in work:
            progress.update(task, description=f"{code} {path.name}")
            try:
                summary = ingest_one(
                    cfg,
                    resource_code=code,
                    path=path,
                    data_date=data_date.date() if data_date else None,
                    as_of=run_date,
                )
                summaries.append(summary.as_dict())
            except GovshareError as error:
                failed += 1
                summaries.append(
                    {
                        "resource_code": code,
                        "source_file": str(path),
                        "error": error.message,
                        "errorCode": error.error_code,
                    }
                )
            progress.advance(task)
    if json_output and not failed:
        print_list(summaries)
    elif not json_output:
        _render(summaries)
    if failed:
        # One contract for scripts: a non-zero exit prints the error shape; every batch's
        # outcome, the failed ones with their errorCode, is in details.
        raise fail(
            "INGEST_FAILED",
            f"{failed} 个批次失败，共 {len(summaries)} 个 (batches failed)",
            details={"data": summaries, "count": len(summaries), "failed": failed},
        )


def _table(name: str):  # type: ignore[no-untyped-def]
    from lake.delta import TableRef

    layer, _, table = name.rpartition(".")
    layer = layer or "validated"
    if layer not in LAYERS:
        raise typer.BadParameter(f"层应为 {LAYERS} 之一 (layer must be one of these)")
    return TableRef(settings().lake_path, layer, table)


@lake_app.command("history")
@handle_errors
def history(
    table: Annotated[str, typer.Argument(help="表名，可带层前缀，如 validated.ga_population")],
    json_output: JsonFlag = False,
) -> None:
    """表的版本历史：每个版本的时间、操作与批次 (table versions)."""
    from lake import delta

    ref = _table(table)
    if not delta.exists(ref):
        raise GovshareError(f"表不存在 (no such table) {ref.qualified}")
    entries = delta.history(ref)
    rows: list[dict[str, Any]] = [
        {
            "version": e.get("version"),
            "timestamp": datetime.fromtimestamp(e["timestamp"] / 1000, UTC),
            "operation": e.get("operation"),
            "mode": (e.get("operationParameters") or {}).get("mode"),
            "batch_id": e.get(delta.BATCH_KEY),
        }
        for e in entries
    ]
    if json_output:
        print_list(rows, table=ref.qualified)
        return
    out = Table(title=f"{ref.qualified} 版本历史 (history)")
    for col in ("版本", "时间（北京）", "操作", "批次"):
        out.add_column(col)
    for r in rows:
        out.add_row(
            str(r["version"]),
            beijing(r["timestamp"]),
            f"{r['operation']} {r['mode'] or ''}",
            str(r["batch_id"] or ""),
        )
    console.print(whole_identifiers(out, "批次"))


@lake_app.command("read")
@handle_errors
def read(
    table: Annotated[str, typer.Argument(help="表名，可带层前缀")],
    version: Annotated[int | None, typer.Option(help="读取指定版本 (time travel)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 20,
    json_output: JsonFlag = False,
) -> None:
    """读取表（或其早先的版本）的前若干行 (read a table, or an earlier version)."""
    import pyarrow as pa

    from lake import delta

    ref = _table(table)
    if not delta.exists(ref):
        raise GovshareError(f"表不存在 (no such table) {ref.qualified}")
    try:
        data = pa.table(delta.read(ref, version=version))
    except FileNotFoundError:
        if version is None:
            raise
        raise _outside_window(ref, version) from None
    rows = data.slice(0, limit).to_pylist()
    if json_output:
        # count is every row of the version; data holds the first --limit of them.
        print_list(
            [{k: _plain(v) for k, v in row.items()} for row in rows],
            count=data.num_rows,
            table=ref.qualified,
            version=version if version is not None else delta.version(ref),
        )
        return
    shown = version if version is not None else delta.version(ref)
    out = Table(title=f"{ref.qualified} 版本 {shown}：{data.num_rows} 行")
    for col in data.column_names:
        out.add_column(col, overflow="fold")
    for row in rows:
        out.add_row(*(_cell(v) for v in row.values()))
    console.print(out)


def _plain(value: object) -> object:
    """A cell as JSON has it: times ISO with their offset, nested maps and lists alike."""
    if isinstance(value, date):
        return iso(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _cell(value: object) -> str:
    """A cell as a person reads it: times in Beijing, nested values (a theme's provenance map
    arrives as a list of pairs) as JSON, never a Python repr such as datetime.datetime(...)."""
    import json

    if value is None:
        return ""
    if isinstance(value, date):
        return beijing(value)
    if isinstance(value, dict | list | tuple):
        plain = _plain(value)
        if isinstance(value, list) and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            plain = {str(k): _plain(v) for k, v in value}  # a map column: pairs to an object
        return json.dumps(plain, ensure_ascii=False)
    return str(value)


def _outside_window(ref, version: int) -> GovshareError:  # type: ignore[no-untyped-def]
    """Reading a version whose files maintenance vacuumed: say so, with what is readable."""
    from lake.maintenance import oldest_readable_version, window_of

    cfg = settings()
    oldest = oldest_readable_version(ref, window=window_of(cfg))
    return GovshareError(
        f"版本 {version} 已超出回溯窗口（{cfg.lake_time_travel_hours:g} 小时），其数据文件已被"
        f"维护任务清理；{ref.qualified} 可读的最早版本为 {oldest} "
        "(version outside the time-travel window)"
    )


@lake_app.command("maintain")
@handle_errors
def maintain(
    table: Annotated[
        str | None, typer.Argument(help="表名，可带层前缀；缺省维护全部表 (default: every table)")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """维护数据湖表：合并小文件、写检查点、清理回溯窗口之外的旧文件 (compact, checkpoint, vacuum).

    回溯窗口内的每个版本仍可读取（GOVSHARE_LAKE_TIME_TRAVEL_HOURS，缺省 168 小时）；
    正在写入、尚未提交的文件不会被清理。同时清理这些表的 Delta Sharing 脱敏文件夹：
    授权已撤销或过期的，以及版本已超出回溯窗口的（同 govshare sharing prune）。
    """
    from catalog.context import utcnow
    from jobs.sharing import prune_shares
    from lake import delta
    from lake.maintenance import maintain_lake

    chosen = None
    if table is not None:
        ref = _table(table)
        if not delta.exists(ref):
            raise GovshareError(f"表不存在 (no such table) {ref.qualified}")
        chosen = [ref]
    reports = [r.as_dict() for r in maintain_lake(settings(), tables=chosen)]
    # The masked copies Delta Sharing serves of these tables: ended grants, vacuumed versions.
    within = None if chosen is None else {ref.uri for ref in chosen}
    pruned = prune_shares(settings(), now=utcnow(), tables=within)
    if json_output:
        print_list(reports, sharing_pruned=pruned)
        return
    out = Table(title="数据湖维护 (lake maintenance)")
    columns = ("表", "版本", "最早可读版本", "合并文件", "清理文件", "磁盘 MB", "当前版本 MB")
    for col in (*columns, "备注"):
        out.add_column(col, overflow="fold")
    for r in reports:
        out.add_row(
            str(r["table"]),
            str(r["version"]),
            str(r["oldest_readable_version"]),
            str(r["files_compacted"]),
            str(r["files_vacuumed"]),
            f"{r['bytes_before'] / 1e6:.1f} → {r['bytes_after'] / 1e6:.1f}",
            f"{r['live_bytes'] / 1e6:.1f}",
            str(r["skipped"]),
        )
    console.print(out)
    console.print(
        f"已清理 {len(pruned)} 个 Delta Sharing 脱敏文件夹（授权已结束或版本超出回溯窗口） "
        "(masked sharing folders removed)"
    )
    for path in pruned:
        console.print(f"  {path}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.add_typer(lake_app, name="lake")
