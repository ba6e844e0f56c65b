"""``govshare audit``: check the signed audit log and report how resources are used.

``verify`` recomputes every entry's hash, link and Ed25519 signature and names the first
entry that does not fit (exit code 1), so tampering in the database cannot go unnoticed. It
also checks the signed checkpoints kept under GOVSHARE_HOME (a chain cut short is found)
and, when the chain is intact, anchors its current head with a new one.
``usage`` is the provider's view: who used its resources, through which call, how often.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from govshare.runtime import (
    JsonFlag,
    beijing,
    catalog_unit,
    console,
    fail,
    handle_errors,
    print_json,
    print_list,
    settings,
    whole_identifiers,
)

audit_app = typer.Typer(
    help="审计日志：校验哈希链与签名、查看资源使用情况 (audit log).", no_args_is_help=True
)


def _platform_key():  # type: ignore[no-untyped-def]
    from exchange_api.signing import PlatformKey

    return PlatformKey.of_deployment(settings())


@audit_app.command("verify")
@handle_errors
def verify(json_output: JsonFlag = False) -> None:
    """校验整条审计日志，指出第一条被篡改或缺失的记录 (verify the whole chain)."""
    from exchange_api.audit import CheckpointStore, verify_and_anchor
    from exchange_api.configuration import ExchangeSettings

    checkpoints = CheckpointStore(ExchangeSettings().checkpoint_path(settings()))
    with catalog_unit() as ctx:
        report = verify_and_anchor(ctx.session, _platform_key(), checkpoints, now=ctx.now())
    if report.ok and json_output:
        print_json(report.__dict__)
    elif report.ok:
        console.print(
            f"[green]审计日志完整 (chain intact)[/]：{report.entries} 条，"
            f"链头哈希 {report.head_hash[:16]}…"
        )
    else:
        raise fail(
            "AUDIT_CHAIN_BROKEN",
            f"审计日志被破坏 (chain broken)：第 {report.first_broken_seq} 条，"
            f"{report.problem}；此前 {report.entries} 条完好",
            details=report.__dict__,
        )


@audit_app.command("usage")
@handle_errors
def usage_command(
    department: Annotated[
        str | None,
        typer.Option("--department", help="提供部门统一社会信用代码，缺省为全部 (provider)"),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """提供部门的资源使用情况：哪个部门、通过哪个接口、调用多少次 (usage of resources)."""
    from catalog import repository
    from exchange_api.audit import usage

    with catalog_unit() as ctx:
        if department is not None:
            repository.department(ctx.session, department)  # unknown code: a clear error
        rows = usage(ctx.session, provider_code=department)
    if json_output:
        print_list(r.__dict__ for r in rows)
        return
    table = Table(title=f"资源使用情况 (usage){'：' + department if department else ''}")
    for col in ("信息资源", "使用部门", "接口", "结果", "次数", "返回行数", "最近时间（北京）"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r.resource_code, r.department_code, r.endpoint, r.outcome, str(r.requests),
            str(r.rows), beijing(r.last_at),
        )  # fmt: skip
    console.print(whole_identifiers(table, "信息资源", "使用部门"))


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
