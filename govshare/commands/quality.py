"""``govshare quality``: the quality gate's rules, reports, checks and held batches."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from govshare.runtime import (
    JsonFlag,
    beijing,
    catalog_unit,
    cli_actor,
    console,
    handle_errors,
    print_json,
    print_list,
    run_date,
    settings,
    whole_identifiers,
)

app = typer.Typer(help="质检：规则、报告、暂缓入库批次 (quality gate).", no_args_is_help=True)
rules_app = typer.Typer(help="质检规则 (quality rules).", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

Code = Annotated[str, typer.Argument(help="信息资源代码：前段码/后段码 (resource code)")]
AsOf = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%d"],
        help="运行日期，用于“日期不得晚于当天”等规则（缺省为北京时间今天）(the run's date)",
    ),
]


def _percent(rate: float) -> str:
    return f"{rate:.2%}"


@app.command("run")
@handle_errors
def run(
    resource_code: Code,
    file: Annotated[
        Path | None, typer.Option("--file", help="检查该文件，缺省检查当前已入库的表")
    ] = None,
    as_of: AsOf = None,
    json_output: JsonFlag = False,
) -> None:
    """运行质检，不入库 (evaluate the rules on the validated table or a file, publish nothing)."""
    from quality.run import check

    today = run_date(as_of)
    outcome = check(
        settings(), resource_code=resource_code, actor=cli_actor(), path=file, today=today
    )
    if json_output:
        print_json(outcome)
        return
    verdict = "[green]可入库[/]" if outcome["would_publish"] else "[red]将暂缓入库[/]"
    console.print(
        f"{resource_code} {outcome['source']}：读取 {outcome['rows_read']} 行，"
        f"合格 {outcome['rows_passed']}，不合格 {outcome['rows_failed']}，"
        f"合格率 {_percent(outcome['pass_rate'])}（阈值 {_percent(outcome['threshold'])}）{verdict}"
    )
    for line in outcome["reasons"]:
        console.print(f"  • {line}")
    console.print(f"Data Docs: {outcome['data_docs']}")


@app.command("report")
@handle_errors
def report(resource_code: Code, as_of: AsOf = None, json_output: JsonFlag = False) -> None:
    """质检报告：各批次合格率、各规则不合格数、脱敏样例 (per-batch quality report)."""
    from quality.report import report as build

    today = run_date(as_of)
    with catalog_unit() as ctx:
        data = build(ctx, resource_code=resource_code, actor=cli_actor(), today=today)
    if json_output:
        print_json(data)
        return
    # The batch id stays whole (`quality release BATCH_ID` needs all of it), so at 80 columns
    # the threshold goes to the title and 合格 (读取 − 不合格) is left to --json.
    table = Table(
        title=f"{data['resource_code']} {data['resource_name']} 质检报告"
        f"（阈值 {_percent(data['threshold'])}）"
    )
    for col in ("批次", "类型", "读取", "不合格", "合格率", "结论"):
        table.add_column(col, overflow="fold")
    for r in data["results"]:
        table.add_row(
            r["batch_id"],
            r["run_kind"],
            str(r["rows_read"]),
            str(r["rows_failed"]),
            _percent(r["pass_rate"]),
            r["decision_label"],
        )
    console.print(whole_identifiers(table, "批次"))
    if data["results"]:
        latest = data["results"][0]
        for c in latest["counts"]:
            console.print(f"  [yellow]{c['label']}[/]：{c['failed']} 行")
        if latest["data_docs"]:
            console.print(f"Data Docs: {latest['data_docs']}")


@rules_app.command("list")
@handle_errors
def rules_list(resource_code: Code, as_of: AsOf = None, json_output: JsonFlag = False) -> None:
    """列出资源的全部质检规则：生成的、审核员添加的、基础库引用 (all rules of a resource)."""
    from quality.service import rules_of

    today = run_date(as_of)
    with catalog_unit() as ctx:
        ruleset = rules_of(ctx, resource_code=resource_code, actor=cli_actor(), today=today)
    rules = ruleset.describe()
    if json_output:
        print_list(rules, threshold=ruleset.threshold)
        return
    table = Table(title=f"{resource_code} 质检规则（阈值 {_percent(ruleset.threshold)}）")
    for col in ("规则", "信息项", "说明", "来源", "GE 期望"):
        table.add_column(col, overflow="fold")
    for r in rules:
        table.add_row(r["id"], r["item"], r["label"], r["origin"], r["expectation"])
    console.print(table)


@rules_app.command("add")
@handle_errors
def rules_add(
    resource_code: Code,
    item: Annotated[str, typer.Argument(help="信息项名称 (data item)")],
    kind: Annotated[
        str, typer.Argument(help="not_null|between|in_set|not_in_set|regex|length|unique")
    ],
    params: Annotated[
        str, typer.Option("--params", help='参数 JSON，如 \'{"min": 0, "max": 100}\'')
    ] = "{}",
    label: Annotated[str, typer.Option("--label", help="说明 (description)")] = "",
    json_output: JsonFlag = False,
) -> None:
    """添加审核员规则 (add a steward rule; whitelisted kinds with parameters, never SQL)."""
    from checks.errors import BadRule
    from quality.service import add_rule, rule_out

    try:
        parsed: Any = json.loads(params)
    except json.JSONDecodeError:
        raise BadRule("--params 不是有效的 JSON (invalid JSON)") from None
    if not isinstance(parsed, dict):
        raise BadRule("--params 应为 JSON 对象 (a JSON object)")
    with catalog_unit() as ctx:
        rule = add_rule(
            ctx,
            resource_code=resource_code,
            item=item,
            kind=kind,
            params=parsed,
            label=label,
            actor=cli_actor(),
        )
        out = rule_out(rule)
    if json_output:
        print_json(out)
    else:
        console.print(f"已添加规则 {out['id']}：{out['item']} {out['label']}")


@rules_app.command("remove")
@handle_errors
def rules_remove(
    rule_id: Annotated[int, typer.Argument(help="规则编号 (rule id)")],
    json_output: JsonFlag = False,
) -> None:
    """停用审核员规则 (retire a steward rule; past results keep it)."""
    from quality.service import remove_rule, rule_out

    with catalog_unit() as ctx:
        rule = remove_rule(ctx, rule_id=rule_id, actor=cli_actor())
        out = {**rule_out(rule), "removed_at": rule.removed_at, "removed_by": rule.removed_by}
    if json_output:
        print_json(out)
        return
    console.print(f"已停用规则 {rule_id}")


@app.command("profile")
@handle_errors
def profile(
    resource_code: Code,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="合格率阈值，如 0.99")
    ] = None,
    item: Annotated[str | None, typer.Option("--item", help="信息项（代码表、格式）")] = None,
    codes: Annotated[str | None, typer.Option("--codes", help="代码表，逗号分隔")] = None,
    pattern: Annotated[str | None, typer.Option("--pattern", help="格式正则")] = None,
    references: Annotated[
        bool | None, typer.Option("--references/--no-references", help="基础库引用检查")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """设置资源的质检阈值、信息项代码表与格式 (threshold, code lists, formats)."""
    from quality.service import set_profile

    with catalog_unit() as ctx:
        saved = set_profile(
            ctx,
            resource_code=resource_code,
            actor=cli_actor(),
            threshold=threshold,
            item=item,
            codes=[c.strip() for c in codes.split(",") if c.strip()] if codes else None,
            pattern=pattern,
            references_enabled=references,
        )
        out = {
            "resource_code": resource_code,
            "threshold": saved.threshold,
            "item_standards": saved.item_standards,
            "references": saved.references,
            "updated_at": saved.updated_at,
            "updated_by": saved.updated_by,
        }
    if json_output:
        print_json(out)
        return
    console.print(
        f"{resource_code}：阈值 {out['threshold'] if out['threshold'] is not None else '默认'}，"
        f"数据标准 {json.dumps(out['item_standards'], ensure_ascii=False)}"
    )


def _lake_side(order: Any) -> None:
    """The lake side of a steward's decision: commit or discard the staged passing rows."""
    from jobs.batch import apply_gate_order

    apply_gate_order(settings(), order)


def _held_batches() -> list[str]:
    from catalog import batches

    with catalog_unit() as ctx:
        # A batch waiting for its base library has nothing to release: the next ingest runs it.
        return [
            b.batch_id
            for b in batches.batches(ctx)
            if b.status == batches.HELD and not batches.waits_for_base(b)
        ]


def _decided(order: Any) -> dict[str, Any]:
    return {
        "batch_id": order.batch_id,
        "resource_code": order.resource_code,
        "action": order.action,
        "rows_published": order.rows_to_publish if order.action == "released" else 0,
        "rows_quarantined": order.rows_quarantined,
    }


def _batches(batch_id: str | None, all_held: bool) -> list[str]:
    if all_held == (batch_id is not None):
        raise typer.BadParameter("请给出一个批次号，或使用 --all-held (one batch id or --all-held)")
    return _held_batches() if all_held else [batch_id or ""]


@app.command("release")
@handle_errors
def release(
    batch_id: Annotated[str | None, typer.Argument(help="批次号 (batch id)")] = None,
    reason: Annotated[str, typer.Option("--reason", help="放行理由")] = "",
    all_held: Annotated[
        bool, typer.Option("--all-held", help="放行全部暂缓入库的批次 (every held batch)")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """放行暂缓入库的批次：合格行入库，不合格行仍隔离 (release a held batch)."""
    from quality import gate

    done = []
    for batch in _batches(batch_id, all_held):
        with catalog_unit() as ctx:
            order = gate.release(ctx, batch_id=batch, actor=cli_actor(), reason=reason)
        _lake_side(order)
        done.append(_decided(order))
        if not json_output:
            console.print(f"已放行批次 {batch}：{order.rows_to_publish} 行入库")
    if json_output:
        print_list(done)


@app.command("reject")
@handle_errors
def reject(
    batch_id: Annotated[str | None, typer.Argument(help="批次号 (batch id)")] = None,
    reason: Annotated[str, typer.Option("--reason", help="退回理由")] = "",
    all_held: Annotated[
        bool, typer.Option("--all-held", help="退回全部暂缓入库的批次 (every held batch)")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """退回暂缓入库的批次：整批不入库，通知提供部门 (reject a held batch)."""
    from quality import gate

    done = []
    for batch in _batches(batch_id, all_held):
        with catalog_unit() as ctx:
            order = gate.reject(ctx, batch_id=batch, actor=cli_actor(), reason=reason)
        _lake_side(order)
        done.append(_decided(order))
        if not json_output:
            console.print(f"已退回批次 {batch}，提供部门已收到通知")
    if json_output:
        print_list(done)


@app.command("apply")
@handle_errors
def apply(
    resource_code: Annotated[
        str | None, typer.Option("--resource", help="只处理该资源 (one resource only)")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """完成已放行、已退回或质检已通过但未落湖的批次 (finish gate decisions not yet on the lake).

    A release (or a batch the gate passed) is recorded in the catalogue first and committed to
    the lake afterwards; if that process died in between, this (or the next ingest of the
    resource) completes it.
    """
    from jobs.batch import apply_pending_orders

    done = apply_pending_orders(settings(), resource_code=resource_code)
    rows = [
        {
            "batch_id": order.batch_id,
            "resource_code": order.resource_code,
            "action": order.action,
            "rows_published": order.rows_to_publish if version is not None else 0,
            "table_version": version,
        }
        for order, version in done
    ]
    if json_output:
        print_list(rows)
        return
    if not rows:
        console.print("没有待完成的入库、放行或退回 (nothing pending)")
    for row in rows:
        verb = "已清理暂存" if row["action"] == "rejected" else "已入库"
        console.print(f"批次 {row['batch_id']}（{row['resource_code']}）：{verb}")


@app.command("chart")
@handle_errors
def chart(
    out: Annotated[Path | None, typer.Option("--out", help="HTML 文件路径")] = None,
    json_output: JsonFlag = False,
) -> None:
    """质检入库率随时间变化：按资源、部门与总体的 HTML 图表 (pass rates over time)."""
    from quality.report import series, write_chart

    with catalog_unit() as ctx:
        if json_output:
            print_json(series(ctx, actor=cli_actor()))
            return
        path = write_chart(ctx, actor=cli_actor(), out=out)
    console.print(f"图表 (chart): {path}")


@app.command("notices")
@handle_errors
def notices(
    department: Annotated[str | None, typer.Option("--department", help="部门代码")] = None,
    json_output: JsonFlag = False,
) -> None:
    """发给提供部门的通知：暂缓入库与退回的批次及原因 (notices to provider departments)."""
    from quality.report import notifications

    with catalog_unit() as ctx:
        data = notifications(ctx, actor=cli_actor(), department_code=department)
    if json_output:
        print_list(data)
        return
    for n in data:
        console.print(
            f"[bold]{n['department_code']}[/] {beijing(n['created_at'], seconds=False)} "
            f"{n['message']}"
        )
        for line in n["reasons"]:
            console.print(f"  • {line}")
        # The message is what the department was told then; the batch may have moved since.
        console.print(f"  [bold]现状 (now)[/]：{n['status']}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="quality")
