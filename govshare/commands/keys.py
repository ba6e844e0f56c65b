"""``govshare keys`` (department API keys) and ``govshare serve`` (the exchange API).

Keys are managed on the operator's machine as the data authority (the CLI's steward actor);
the plaintext of a key is printed once, when it is created or rotated, and never stored.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from catalog import keys
from catalog.domain import Role
from catalog.models import ApiKey
from catalog.views import api_key_out
from govshare.runtime import (
    JsonFlag,
    beijing,
    catalog_unit,
    cli_actor,
    console,
    err_console,
    handle_errors,
    print_json,
    print_list,
    whole_identifiers,
)
from govshare.runtime import (
    settings as current_settings,
)

app = typer.Typer(
    help="部门访问密钥：创建、列出、吊销、轮换 (department API keys).", no_args_is_help=True
)

ONCE_WARNING = (
    "此密钥只显示这一次，平台只保存其摘要，请立即妥善保存 "
    "(this key is shown only once; only its hash is stored)"
)


def _show_new_key(key: ApiKey, plaintext: str, *, json_output: bool, title: str) -> None:
    """Print a new key's plaintext once, with the warning on stderr so scripts can pipe it."""
    if json_output:
        print_json({**api_key_out(key).model_dump(), "api_key": plaintext})
        err_console.print(f"[bold yellow]注意 (warning):[/] {ONCE_WARNING}")
        return
    console.print(f"[green]{title}[/] {key.key_id}（{key.department.name}，{key.role}）")
    console.print(plaintext, soft_wrap=True, highlight=False)
    console.print(f"[bold yellow]注意 (warning):[/] {ONCE_WARNING}")


@app.command("create")
@handle_errors
def create_command(
    department: Annotated[
        str, typer.Option("--department", help="部门统一社会信用代码 (department code)")
    ],
    role: Annotated[
        Role, typer.Option(help="department：部门；steward：数据管理机构审核员")
    ] = Role.DEPARTMENT,
    label: Annotated[str, typer.Option(help="用途说明，如对接系统名称 (what the key is for)")] = "",
    json_output: JsonFlag = False,
) -> None:
    """为部门创建访问密钥，明文只显示一次 (create a key; shown only once)."""
    with catalog_unit() as ctx:
        key, plaintext = keys.create_key(
            ctx, department_code=department, role=role, label=label, actor=cli_actor()
        )
    _show_new_key(key, plaintext, json_output=json_output, title="已创建访问密钥 (key created)")


@app.command("list")
@handle_errors
def list_command(
    department: Annotated[
        str | None, typer.Option("--department", help="只列出该部门的密钥 (one department)")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """列出访问密钥（不含密钥明文）(list keys; secrets are never shown)."""
    with catalog_unit() as ctx:
        rows = [
            api_key_out(k)
            for k in keys.list_keys(ctx, actor=cli_actor(), department_code=department)
        ]
    if json_output:
        print_list(rows)
        return
    table = Table(title=f"访问密钥：{len(rows)} 个 (API keys；时间为北京时间)")
    for col in ("密钥编号", "部门", "角色", "说明", "创建时间", "状态"):
        table.add_column(col, overflow="fold")
    for k in rows:
        state = f"已吊销 {beijing(k.revoked_at, seconds=False)}" if k.revoked_at else "有效"
        table.add_row(
            k.key_id,
            k.department_code,
            k.role,
            k.label,
            beijing(k.created_at, seconds=False),
            state,
        )
    console.print(whole_identifiers(table, "密钥编号", "部门"))


@app.command("revoke")
@handle_errors
def revoke_command(
    key_id: Annotated[str, typer.Argument(help="密钥编号 (key id, the part after gs_)")],
    json_output: JsonFlag = False,
) -> None:
    """吊销访问密钥，立即生效 (revoke a key; effective at once)."""
    with catalog_unit() as ctx:
        out = api_key_out(keys.revoke_key(ctx, key_id=key_id, actor=cli_actor()))
    if json_output:
        print_json(out)
        return
    console.print(f"[green]已吊销访问密钥 (key revoked)[/] {out.key_id}")


@app.command("rotate")
@handle_errors
def rotate_command(
    key_id: Annotated[str, typer.Argument(help="要替换的密钥编号 (key id to replace)")],
    json_output: JsonFlag = False,
) -> None:
    """轮换访问密钥：吊销旧密钥并创建新密钥 (revoke a key and issue its replacement)."""
    with catalog_unit() as ctx:
        key, plaintext = keys.rotate_key(ctx, key_id=key_id, actor=cli_actor())
    _show_new_key(
        key, plaintext, json_output=json_output, title=f"已轮换 {key_id}，新密钥 (new key)"
    )


@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="监听地址 (bind address)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="端口 (port)")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="工作进程数；多进程时请用 PostgreSQL 目录库 (uvicorn worker processes)",
        ),
    ] = 1,
) -> None:
    """启动交换接口服务与共享交换门户：门户在 /，接口文档在 /api/v1/docs (API and web console)."""
    import uvicorn  # imported here: other commands need not pay for the server

    from govshare.commands.console_signins import read_signins

    settings = current_settings()
    with catalog_unit() as ctx:  # fails with the "run govshare init" hint, not a traceback
        signins = read_signins(ctx, settings.home)
    if workers > 1 and not settings.catalog_url.startswith("postgresql"):
        err_console.print(
            "[yellow]提示：多个工作进程共用 SQLite 目录库时写入会相互等待，省级部署请使用 "
            "PostgreSQL (GOVSHARE_DATABASE_URL) (several workers on SQLite serialise writes)[/]"
        )
    _metrics_folder(settings.home / "metrics" / "exchange_api")
    console.print(f"共享交换门户 (web console): http://{host}:{port}/")
    console.print(f"接口文档 (API docs): http://{host}:{port}/api/v1/docs")
    console.print(
        f"运行状态 (health): http://{host}:{port}/healthz  /readyz  /metrics · {workers} 个工作进程"
    )
    for signin in signins:
        console.print(
            f"  演示登录 (demo sign-in) {signin.role} {signin.department_name}：{signin.key}",
            soft_wrap=True,
        )
    uvicorn.run("exchange_api.app:create_app", factory=True, host=host, port=port, workers=workers)


def _metrics_folder(folder: Path) -> None:
    """Point prometheus_client's multiprocess mode at an emptied folder under GOVSHARE_HOME.

    Set before any worker imports prometheus_client (it reads the variable at import); the
    workers inherit it, write their samples there, and ``/metrics`` sums them. Samples of a
    previous run would be counted again, so the folder starts empty.
    """
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def register(app_: typer.Typer) -> None:
    """Add the keys sub-command and serve to the main app."""
    app_.add_typer(app, name="keys")
    app_.command("serve")(serve)
