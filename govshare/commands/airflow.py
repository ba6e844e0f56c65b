"""``govshare airflow up|down|status``: Airflow's scheduler, dag-processor, triggerer and UI.

``up`` migrates Airflow's metadata database, registers and unpauses the generated DAGs, starts
the four services as detached processes (``dags.services``) and waits until the api-server
reports them healthy; it prints the UI's address and the admin sign-in. ``down`` stops them
all. Pid files and logs stay under ``GOVSHARE_HOME/airflow/services``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from govshare.runtime import JsonFlag, console, handle_errors, print_json, whole_identifiers
from govshare.runtime import settings as current_settings

app = typer.Typer(
    help="Airflow 服务：调度器、DAG 解析、触发器与网页界面的启动、停止、状态 (Airflow services).",
    no_args_is_help=True,
)


@app.command("up")
@handle_errors
def up_command(
    host: Annotated[
        str, typer.Option(help="网页界面与接口监听地址 (api-server host)")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="网页界面与接口端口 (api-server port)")
    ] = 8080,
    log_port: Annotated[
        int, typer.Option(min=1, max=65535, help="调度器任务日志服务端口 (scheduler log server)")
    ] = 8793,
    trigger_log_port: Annotated[
        int, typer.Option(min=1, max=65535, help="触发器日志服务端口 (triggerer log server)")
    ] = 8794,
    keep_paused: Annotated[
        bool,
        typer.Option(
            "--keep-paused", help="登记后不启用 DAG，由人在界面中逐个启用 (leave the DAGs paused)"
        ),
    ] = False,
    wait: Annotated[
        float, typer.Option(min=10, help="等待各服务就绪的秒数 (seconds to wait for health)")
    ] = 180.0,
    json_output: JsonFlag = False,
) -> None:
    """迁移元数据库、登记并启用 DAG、启动四个服务，就绪后打印网址与登录信息 (start Airflow)."""
    from dags import services

    options = services.UpOptions(
        host=host, port=port, log_port=log_port, trigger_log_port=trigger_log_port,
        unpause=not keep_paused, wait_seconds=wait,
    )  # fmt: skip
    if json_output:
        outcome = services.up(current_settings(), options)
        print_json(outcome)
        return
    with console.status("启动 Airflow 服务 (starting Airflow)…") as spinner:

        def progress(note: str) -> None:
            spinner.update(f"启动 Airflow 服务：{note}")
            console.print(f"  · {note}", highlight=False)

        outcome = services.up(current_settings(), options, progress=progress)
    state = "已启用 (unpaused)" if outcome["unpaused"] else "保持暂停 (paused)"
    console.print(
        f"[green]Airflow 已启动 (up)[/]：{len(outcome['dags'])} 个 DAG {state}，"
        f"执行器 {outcome['executor']}，元数据库 {outcome['database']}"
    )
    console.print(f"网页界面 (UI): {outcome['url']}")
    console.print(f"登录 (sign in): 用户 {outcome['user']}，密码 {outcome['password']}")
    console.print(f"密码文件 (passwords file): {outcome['passwords_file']}")
    console.print("停止 (stop): govshare airflow down")


@app.command("down")
@handle_errors
def down_command(
    grace: Annotated[
        float,
        typer.Option(min=0, help="SIGTERM 后等待的秒数，之后 SIGKILL (seconds before SIGKILL)"),
    ] = 20.0,
    json_output: JsonFlag = False,
) -> None:
    """停止全部 Airflow 服务及其子进程 (stop every Airflow service and its children)."""
    from dags import services

    outcome = services.down(current_settings(), grace=grace)
    if json_output:
        print_json(outcome)
    elif not outcome["stopped"] and not outcome["stale"]:
        console.print("没有运行中的 Airflow 服务 (nothing running)")
    else:
        stopped = "、".join(outcome["stopped"]) or "无"
        console.print(f"[green]已停止 (stopped)[/]：{stopped}")
        if outcome["killed"]:
            console.print(f"[yellow]超时后强制结束 (killed)[/]：{'、'.join(outcome['killed'])}")
        if outcome["stale"]:
            console.print(f"已清除过期的 pid 文件 (stale pid files): {'、'.join(outcome['stale'])}")
    if outcome["still_running"]:
        console.print(f"[red]仍在运行 (still running)[/]：{'、'.join(outcome['still_running'])}")
        raise typer.Exit(1)


@app.command("status")
@handle_errors
def status_command(json_output: JsonFlag = False) -> None:
    """各服务的进程号、是否在运行与日志位置 (each service: pid, alive, log)."""
    from dags import services

    found = services.status(current_settings())
    if json_output:
        print_json(found)
        return
    table = Table(title=f"Airflow 服务 (services) {found['url'] or ''}".strip())
    for column in ("服务 (service)", "pid", "状态 (state)"):
        table.add_column(column)
    table.add_column("日志 (log)", overflow="fold")  # a path to open: folded, never cut
    for service in found["services"]:
        if service["alive"]:
            state = "[green]运行中 (running)[/]"
        elif service["stale"]:
            state = "[yellow]已退出 (stale pid)[/]"
        else:
            state = "未运行 (stopped)"
        table.add_row(service["service"], str(service["pid"] or "—"), state, service["log"])
    console.print(whole_identifiers(table, "服务 (service)", "pid"))


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="airflow")
