"""``govshare grants``: list grants and revoke one (as the data authority, like every command).

Revoking takes effect on the grantee's next data call; the reason is required and kept in
the grant's history.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from catalog import grants
from catalog.views import grant_out
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

app = typer.Typer(help="共享授权：列出、撤销 (grants).", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_command(json_output: JsonFlag = False) -> None:
    """列出全部授权 (list every grant)."""
    with catalog_unit() as ctx:
        rows = [grant_out(g) for g in grants.list_grants(ctx, actor=cli_actor())]
    if json_output:
        print_list(rows)
        return
    table = Table(title=f"共享授权：{len(rows)} 个 (grants)")
    for col in ("编号", "使用部门", "信息资源", "用途", "到期", "状态"):
        table.add_column(col, overflow="fold")
    for g in rows:
        state = (
            f"已撤销 {beijing(g.revoked_at, seconds=False)}：{g.revoke_reason}"
            if g.revoked_at
            else "有效"
        )
        table.add_row(
            str(g.id), g.department_code, g.resource_code, g.purpose,
            beijing(g.expires_at)[:10], state,
        )  # fmt: skip
    console.print(whole_identifiers(table, "编号", "使用部门", "信息资源"))


@app.command("revoke")
@handle_errors
def revoke_command(
    grant_id: Annotated[int, typer.Argument(help="授权编号 (grant id)", min=1)],
    reason: Annotated[str, typer.Option("--reason", help="撤销理由，必填 (reason, required)")],
    json_output: JsonFlag = False,
) -> None:
    """撤销授权，下一次调用即生效 (revoke a grant; effective on the next call)."""
    with catalog_unit() as ctx:
        out = grant_out(
            grants.revoke_grant(ctx, grant_id=grant_id, reason=reason, actor=cli_actor())
        )
    if json_output:
        print_json(out)
        return
    console.print(
        f"[green]已撤销授权 (grant revoked)[/] {out.id}：{out.resource_code} → "
        f"{out.department_code}"
    )


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="grants")
