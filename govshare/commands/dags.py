"""``govshare dags``: the Airflow DAGs generated from the capability list (能力清单)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from govshare.runtime import (
    JsonFlag,
    console,
    fail,
    handle_errors,
    print_json,
    print_list,
    settings,
    whole_identifiers,
)

dags_app = typer.Typer(
    help="调度：由能力清单生成的 DAG (Airflow scheduling).", no_args_is_help=True
)


@dags_app.command("sync")
@handle_errors
def sync(json_output: JsonFlag = False) -> None:
    """刷新能力清单快照，迁移 Airflow 元数据库并登记 DAG (refresh snapshot, migrate, register)."""
    from dags.runner import sync as sync_dags

    outcome = sync_dags(settings())
    if json_output:
        print_json(outcome)
        return
    state = "已更新" if outcome["snapshot_changed"] else "未变化"
    console.print(f"能力清单快照{state} (snapshot): {outcome['snapshot']}")
    console.print(f"已登记 {len(outcome['dags'])} 个 DAG (DAGs registered)")
    if outcome["unpaused"]:
        console.print("已启用，调度器将按周期运行 (unpaused: the scheduler runs them)")


@dags_app.command("env")
@handle_errors
def env(json_output: JsonFlag = False) -> None:
    """打印 Airflow 命令所需的环境变量，供 eval 使用 (shell exports for the airflow CLI).

    eval "$(govshare dags env)" 之后，airflow api-server、airflow dags unpause 等命令
    使用与 govshare 相同的 AIRFLOW_HOME 与元数据库。
    """
    import os
    import shlex

    from dags.runner import KEEP_IF_SET, airflow_environment

    values = {
        # A configured PostgreSQL metadata DB wins, as in dags sync.
        key: os.environ[key] if key in KEEP_IF_SET and key in os.environ else value
        for key, value in airflow_environment(settings()).items()
    }
    if json_output:
        print_json(values)
        return
    for key, value in values.items():
        # Plain stdout: this is shell input, rich would wrap and colour it.
        typer.echo(f"export {key}={shlex.quote(value)}")


@dags_app.command("list")
@handle_errors
def list_dags(json_output: JsonFlag = False) -> None:
    """列出生成的 DAG 及其调度 (generated DAGs with schedules; reads the snapshot only)."""
    from dags.runner import list_dags as listed

    rows = listed(settings())
    if json_output:
        print_list(rows)
        return
    if not rows:
        console.print("[yellow]没有 DAG：请先运行 govshare dags sync (no snapshot yet)[/]")
        return
    table = Table(title="调度 DAG (generated DAGs, Asia/Shanghai)")
    for col in ("DAG", "信息资源", "更新周期", "调度 (cron)", "表"):
        table.add_column(col)
    for r in rows:
        resource = f"{r['resource_name']} {r['resource_code']}" if r["resource_code"] else "—"
        table.add_row(
            r["dag_id"], resource, r["schedule_label"], r["schedule"] or "数据资产触发",
            r["table"] or "、".join(r["themes"]),
        )  # fmt: skip
    console.print(whole_identifiers(table, "DAG"))


@dags_app.command("run")
@handle_errors
def run(
    dag_id: Annotated[str, typer.Argument(help="DAG id, e.g. govshare_ingest_ga_population")],
    logical_date: Annotated[
        datetime | None, typer.Option("--logical-date", help="运行的逻辑时间 (ISO, UTC if naive)")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """通过 Airflow 端到端运行一个 DAG（dag.test，无需调度器）(run one DAG end to end)."""
    from datetime import UTC

    from dags.runner import run_dag

    when = logical_date.replace(tzinfo=UTC) if logical_date and not logical_date.tzinfo else None
    result = run_dag(settings(), dag_id, logical_date=when or logical_date)
    if json_output and result.ok:
        print_json(result.as_dict())
    elif not json_output:
        table = Table(title=f"{dag_id} ({result.run_id})")
        table.add_column("任务 (task)")
        table.add_column("状态 (state)")
        for task_id, state in result.tasks.items():
            colour = {"success": "green", "failed": "red", "upstream_failed": "red"}.get(state)
            table.add_row(task_id, f"[{colour}]{state}[/]" if colour else state)
        console.print(table)
        verdict = "[green]成功[/]" if result.ok else "[red]失败[/]"
        console.print(f"运行结果 (run): {verdict} {result.state}，用时 {result.seconds}s")
    if not result.ok:
        raise fail(
            "DAG_RUN_FAILED",
            f"DAG {dag_id} 运行失败 (run failed)：{result.state}",
            details=result.as_dict(),
        )


def register(app: typer.Typer) -> None:
    app.add_typer(dags_app, name="dags")
