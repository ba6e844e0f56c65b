"""``govshare spark up|down|status``: a Spark standalone cluster on this machine.

For tests and for a one-machine deployment that wants ingest and theme jobs on a cluster
rather than in the command's own JVM: ``up`` starts a master and N workers from the pyspark
distribution (``pipelines.cluster``) and prints the URL to put in ``GOVSHARE_SPARK_MASTER``;
``down`` stops them with their executors. Logs and pids stay under
``GOVSHARE_HOME/spark-cluster``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from govshare.runtime import JsonFlag, console, handle_errors, print_json
from govshare.runtime import settings as current_settings

app = typer.Typer(
    help="Spark 单机集群：启动、停止、状态 (a Spark standalone cluster on this machine).",
    no_args_is_help=True,
)


@app.command("up")
@handle_errors
def up_command(
    workers: Annotated[int, typer.Option(min=1, max=32, help="工作节点数 (workers)")] = 2,
    cores: Annotated[int, typer.Option(min=1, help="每个工作节点的核数 (cores per worker)")] = 1,
    memory: Annotated[str, typer.Option(help="每个工作节点的内存 (memory per worker)")] = "1g",
    port: Annotated[int, typer.Option(min=1, max=65535, help="主节点端口 (master port)")] = 7077,
    webui_port: Annotated[
        int, typer.Option(min=1, max=65535, help="主节点网页端口 (master web UI port)")
    ] = 8090,
    json_output: JsonFlag = False,
) -> None:
    """启动主节点与工作节点，打印 GOVSHARE_SPARK_MASTER 的取值 (start master and workers)."""
    from pipelines import cluster

    spec = cluster.ClusterSpec(
        workers=workers, cores=cores, memory=memory, port=port, webui_port=webui_port
    )
    state = cluster.up(current_settings(), spec)
    if json_output:
        print_json(cluster.status(current_settings()))
        return
    console.print(f"[green]Spark 集群已启动 (cluster up)[/]：{state.url}，{workers} 个工作节点")
    console.print(f"网页 (web UI): {state.webui}")
    console.print(f"export GOVSHARE_SPARK_MASTER={state.url}")


@app.command("down")
@handle_errors
def down_command(json_output: JsonFlag = False) -> None:
    """停止工作节点（连同执行器）与主节点 (stop workers, their executors and the master)."""
    from pipelines import cluster

    settings = current_settings()
    state = cluster.read_state(settings)
    ended = cluster.down(settings)
    left = cluster.leftovers([*state.worker_pids, state.master_pid]) if state else []
    if json_output:
        print_json({"stopped": ended, "still_running": left})
    elif state is None:
        console.print("没有记录在案的 Spark 集群 (no cluster recorded)")
    else:
        console.print(f"[green]已停止 (stopped)[/]：{len(ended)} 个进程组")
    if left:
        raise typer.Exit(1)


@app.command("status")
@handle_errors
def status_command(json_output: JsonFlag = False) -> None:
    """主节点与工作节点是否在运行 (whether the master and workers run)."""
    from pipelines import cluster

    found = cluster.status(current_settings())
    if json_output:
        print_json(found)
        return
    if found["url"] is None:
        console.print("没有运行中的 Spark 集群 (no cluster)")
        return
    state = "运行中 (running)" if found["running"] else "未运行 (not running)"
    console.print(f"{found['url']}：{state}，网页 {found['webui']}")
    for n, worker in enumerate(found["workers"], start=1):
        running = "运行中" if worker["alive"] else "已停止"
        console.print(f"  工作节点 {n} pid {worker['pid']}：{running}")
    console.print(f"日志 (logs): {found['logs']}")


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="spark")
