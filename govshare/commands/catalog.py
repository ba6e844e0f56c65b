"""``govshare catalog``: the three lists and the catalogue from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from catalog.domain import ResourceClass, ShareType
from govshare.runtime import (
    JsonFlag,
    beijing,
    catalog_unit,
    cli_actor,
    console,
    handle_errors,
    print_json,
    print_list,
    whole_identifiers,
)

if TYPE_CHECKING:
    from catalog.gaps import GapReport

# Each command imports what it uses when it runs: `catalog gaps` is typed often and should not
# pay for the services, search index, views and demo data the other commands need (issue 16).

app = typer.Typer(
    help="三清单一目录：目录、职责、能力与需求 (catalogue commands).", no_args_is_help=True
)


@app.command("seed-demo")
@handle_errors
def seed_demo_command(json_output: JsonFlag = False) -> None:
    """加载演示目录：8 个部门、职责、约 30 个信息资源和各种状态的需求 (demo catalogue)."""
    from demo.catalog import seed_demo

    with catalog_unit() as ctx:
        counts = seed_demo(ctx)
    if json_output:
        print_json(counts)
        return
    console.print(
        f"[green]演示目录已加载[/]：{counts['departments']} 个部门，{counts['duties']} 项职责，"
        f"{counts['resources']} 个信息资源，{counts['demands']} 条共享需求"
    )


def _render_gaps(report: GapReport) -> None:
    from catalog.workdays import PROVISIONAL_NOTE

    coverage = Table(title="应编尽编覆盖率 (duty coverage per department)")
    for col in ("部门", "职责数", "已编目", "覆盖率"):
        coverage.add_column(col)
    for c in report.coverage:
        coverage.add_row(c.department_name, str(c.duties), str(c.covered), f"{c.coverage:.0%}")
    console.print(coverage)

    sections: list[tuple[str, list[str], list[list[str]]]] = [
        (
            "未编目的职责 (duties with no catalogued resource)",
            ["部门", "职责", "缺少的信息项"],
            [
                [g.department_name, f"{g.duty_code} {g.duty_name}", "、".join(g.missing_items)]
                for g in report.uncatalogued_duties
            ],
        ),
        (
            "已发布未挂接的资源 (published, no mounted capability)",
            ["信息资源代码", "名称", "提供方", "挂接状态"],
            [
                [
                    g.resource_code,
                    g.resource_name,
                    g.provider_name,
                    "、".join(g.mount_states) or "无",
                ]
                for g in report.unmounted_resources
            ],
        ),
        (
            "无责任部门的需求 (demands nobody is responsible for)",
            ["需求编号", "需求部门", "需要的信息项", "用途"],
            [
                [g.demand_code, g.requester_name, "、".join(g.wanted_items), g.purpose]
                for g in report.unowned_demands
            ],
        ),
        (
            "提供方有责无能力的需求 (provider responsible, no capability)",
            ["需求编号", "需求部门", "责任部门", "需要的信息项"],
            [
                [g.demand_code, g.requester_name, g.provider_name or "", "、".join(g.wanted_items)]
                for g in report.no_capability_demands
            ],
        ),
        (
            "超期未审核 (overdue reviews)",
            ["类型", "编号", "名称", "审核方", "应办结日期", "超期工作日"],
            [
                [
                    g.kind,
                    g.ref,
                    g.name,
                    g.reviewer,
                    g.due.isoformat() + (PROVISIONAL_NOTE if g.due_provisional else ""),
                    str(g.working_days_late),
                ]
                for g in report.overdue_reviews
            ],
        ),
        (
            "一数一源冲突 (data items with more than one authoritative source)",
            ["信息项", "信息资源", "提供方"],
            [
                [g.item_name, "、".join(g.resources), "、".join(g.providers)]
                for g in report.source_conflicts
            ],
        ),
    ]
    for title, columns, rows in sections:
        table = Table(title=f"{title}：{len(rows)}")
        for col in columns:
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*row)
        whole_identifiers(table, "信息资源代码", "需求编号", "编号")
        console.print(table if rows else f"[green]✓[/] {title}：0")
    console.print(f"共 {report.total} 项缺口 (gaps in total)")


@app.command("gaps")
@handle_errors
def gaps_command(json_output: JsonFlag = False) -> None:
    """缺口报告：未编目职责、未挂接资源、无主需求、无能力需求、超期审核、一数一源冲突."""
    from catalog.gaps import gap_report

    with catalog_unit() as ctx:
        report = gap_report(ctx)
    if json_output:
        print_json(report)
    else:
        _render_gaps(report)


@app.command("search")
@handle_errors
def search_command(
    query: Annotated[str, typer.Argument(help="检索词，多个词以空格分隔 (terms, all must match)")],
    department: Annotated[
        str | None, typer.Option(help="提供方统一社会信用代码 (provider code)")
    ] = None,
    classification: Annotated[
        ResourceClass | None, typer.Option(help="信息资源分类：基础/主题/部门")
    ] = None,
    share_type: Annotated[
        ShareType | None, typer.Option(help="共享类型：无条件共享/有条件共享/不予共享")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    json_output: JsonFlag = False,
) -> None:
    """检索目录：名称、摘要和信息项名称，中文无需分词 (search the catalogue)."""
    from catalog.search import SearchFilters, search
    from catalog.views import resource_out

    filters = SearchFilters(
        provider_code=department, classification=classification, share_type=share_type
    )
    with catalog_unit() as ctx:
        found, total = search(ctx.session, query, filters=filters, limit=limit)
        rows = [resource_out(r, with_mounts=False) for r in found]
    if json_output:
        print_list(rows, count=total)
        return
    table = Table(title=f"检索「{query}」：共 {total} 条 (matches)")
    for col in ("信息资源代码", "名称", "提供方", "分类", "共享类型", "状态"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.code, r.name, r.provider_name, r.classification, r.share_type, r.state)
    console.print(whole_identifiers(table, "信息资源代码"))


@app.command("list")
@handle_errors
def list_command(json_output: JsonFlag = False) -> None:
    """列出全部信息资源及其状态 (list resources)."""
    from catalog import repository
    from catalog.views import resource_out

    with catalog_unit() as ctx:
        rows = [resource_out(r) for r in repository.resources(ctx.session)]
    if json_output:
        print_list(rows)
        return
    table = Table(title=f"政务数据目录：{len(rows)} 个信息资源")
    for col in ("信息资源代码", "名称", "提供方", "共享类型", "更新周期", "目录状态", "挂接状态"):
        table.add_column(col)
    for r in rows:
        mounts = "、".join(str(m.state) for m in r.mounts) or "未挂接"
        table.add_row(
            r.code, r.name, r.provider_name, r.share_type, r.update_cycle, r.state, mounts
        )
    console.print(whole_identifiers(table, "信息资源代码"))


@app.command("show")
@handle_errors
def show_command(
    code: Annotated[str, typer.Argument(help="信息资源代码 (resource code)")],
    json_output: JsonFlag = False,
) -> None:
    """查看一个信息资源：元数据、信息项、挂接、版本与变更历史 (show one resource)."""
    from catalog import repository, services
    from catalog.views import history_out, resource_out

    with catalog_unit() as ctx:
        resource = repository.resource(ctx.session, code)
        out = resource_out(resource)
        versions = [
            v.version for v in services.resource_versions(ctx, code=code, actor=cli_actor())
        ]
        history = [
            history_out(h)
            for h in repository.history(ctx.session, entity="resource", entity_id=resource.id)
        ]
        pending = resource.pending_revision
    if json_output:
        print_json(
            {
                "resource": out,
                "versions": versions,
                "history": history,
                "pending_revision": pending,
            }
        )
        return
    console.print(f"[bold]{out.code} {out.name}[/]（{out.provider_name}）")
    if pending is not None:
        console.print(
            f"[yellow]有待审核的变更：第 {out.version + 1} 版 (a change is pending review)[/]；"
            f"审核员用 govshare catalog review {out.code} --approve 或 --return"
        )
    console.print(
        f"分类 {out.classification}/{out.category}  共享 {out.share_type}  "
        f"更新 {out.update_cycle}  状态 {out.state}  版本 {out.version}"
    )
    console.print(out.summary)
    items = Table(title="信息项 (data items)")
    for col in ("名称", "类型", "长度", "必填", "主键", "敏感级别", "权威来源"):
        items.add_column(col)
    for i in out.items:
        items.add_row(
            i.name,
            f"{i.data_type.value} {i.data_type.label}",
            str(i.length or ""),
            "是" if i.required else "",
            "是" if i.is_key else "",
            i.sensitivity,
            "是" if i.authoritative else "",
        )
    console.print(items)
    log = Table(title="变更历史 (history)")
    for col in ("时间（北京）", "操作", "操作人", "变更前", "变更后"):
        log.add_column(col, overflow="fold")
    for h in history:
        before = (h.before or {}).get("state", "")
        after = (h.after or {}).get("state", "")
        log.add_row(beijing(h.at), h.action, h.actor, before, after)
    console.print(log)


@app.command("review")
@handle_errors
def review_command(
    code: Annotated[str, typer.Argument(help="信息资源代码 (resource code)")],
    approve: Annotated[bool, typer.Option("--approve/--return", help="通过或退回")] = True,
    reason: Annotated[str, typer.Option("--reason", help="意见，退回时必填 (reason)")] = "",
    json_output: JsonFlag = False,
) -> None:
    """审核员审核信息资源：待审核的目录，或已发布资源待审核的变更 (steward review).

    A resource 待审核 is published or returned; a published one with a pending change gets
    that change approved (it becomes the next version) or returned (the current one stays).
    """
    from catalog import repository, services
    from catalog.domain import ResourceState
    from catalog.errors import ValidationError
    from catalog.schemas import ReviewIn
    from catalog.views import resource_out

    if not approve and not reason.strip():
        raise ValidationError("退回必须说明理由 (a reason is required to return)")
    review = ReviewIn(approve=approve, reason=reason)
    with catalog_unit() as ctx:
        resource = repository.resource(ctx.session, code)
        if resource.state is ResourceState.PENDING:
            done = services.review_resource(ctx, code=code, review=review, actor=cli_actor())
        else:
            done = services.review_revision(ctx, code=code, review=review, actor=cli_actor())
        out = resource_out(done)
    if json_output:
        print_json(out)
        return
    console.print(f"{out.code} {out.name}：{out.state}，第 {out.version} 版")
