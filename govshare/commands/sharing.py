"""``govshare sharing profile``: a Delta Sharing profile file for one department.

The profile's bearer token is a new department key (label ``delta-sharing``), stored hashed
like every key and revoked with ``govshare keys revoke``; the file is the only copy of it.
The command then lists the share's tables as the URLs ``delta_sharing.load_as_pandas`` takes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from catalog import keys
from catalog.domain import Role
from exchange_api.sharing import profile_document, share_table_names
from govshare.runtime import (
    JsonFlag,
    catalog_unit,
    cli_actor,
    console,
    handle_errors,
    print_json,
    print_list,
    settings,
)

app = typer.Typer(help="Delta Sharing 开放协议：部门 profile 文件、脱敏文件清理 (Delta Sharing).")

PROFILE_LABEL = "delta-sharing"


@app.command("profile")
@handle_errors
def profile_command(
    department: Annotated[
        str, typer.Option("--department", help="部门统一社会信用代码 (department code)")
    ],
    out: Annotated[Path, typer.Option("--out", help="profile 文件路径，如 dept.share")],
    endpoint: Annotated[
        str, typer.Option(help="服务地址 (server endpoint)")
    ] = "http://127.0.0.1:8000/delta-sharing",
    json_output: JsonFlag = False,
) -> None:
    """为部门生成 Delta Sharing profile 文件（含新的访问密钥）(write a profile file)."""
    with catalog_unit() as ctx:
        key, plaintext = keys.create_key(
            ctx, department_code=department, role=Role.DEPARTMENT, label=PROFILE_LABEL,
            actor=cli_actor(),
        )  # fmt: skip
        key_id = key.key_id
        tables = share_table_names(ctx, department, settings().lake_path)
    document = profile_document(endpoint=endpoint, bearer_token=plaintext)
    out.parent.mkdir(parents=True, exist_ok=True)
    # The file holds a credential: readable by its owner only, from the moment it exists.
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, indent=2)
    urls = [f"{out}#{t}" for t in tables]
    if json_output:  # the token stays in the file only
        print_json({"profile": str(out), "key_id": key_id, "endpoint": endpoint, "tables": urls})
        return
    console.print(
        f"[green]已写入 profile (profile written)[/] {out}；访问密钥 {key_id}，"
        f"吊销：govshare keys revoke {key_id}"
    )
    if not urls:
        console.print("[yellow]该部门目前没有有效授权，共享中没有表 (no live grant: no table)[/]")
    for url in urls:  # what delta_sharing.load_as_pandas takes
        console.print(f"  {url}", soft_wrap=True)


@app.command("prune")
@handle_errors
def prune_command(json_output: JsonFlag = False) -> None:
    """清理不再需要的脱敏文件：已撤销或过期的授权、回溯窗口之外的版本 (prune masked files).

    What the daily maintenance DAG runs after lake maintenance, for deployments without it.
    """
    from catalog.context import utcnow
    from jobs.sharing import prune_shares

    removed = prune_shares(settings(), now=utcnow())
    if json_output:
        print_list(removed)
        return
    console.print(f"已清理 {len(removed)} 个脱敏文件夹 (masked folders removed)")
    for path in removed:
        console.print(f"  {path}", soft_wrap=True)


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="sharing")
