"""Build Airflow DAGs from the capability snapshot: wiring only, the work is in ``dags.tasks``.

One ingest DAG per mounted 库表 capability::

    wait_for_files (deferred) >> ingest_raw >> quality_gate >> publish_validated
        >> update_catalogue >> refresh_themes >> finish_run

and one theme DAG (一企一档, 一人一档) triggered through Airflow assets when a source feeding
a theme has published::

    build_themes >> update_catalogue >> finish_run

and ``govshare_maintenance``, daily: compaction, checkpoints and vacuum of every lake table
within the time-travel window (``lake.maintenance``)::

    maintain_lake

Parsing does no I/O beyond reading the snapshot: task bodies import ``dags.tasks`` (and with
it the catalogue, Spark and Delta) only when they run. Retries happen only for errors that
say they are transient (``GovshareError.transient``); anything else fails the task at once
with its reason, which is also written to the catalogue and the lineage. ``finish_run`` runs
whatever happened and fails the run if a step failed or the same-day deadline was missed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pendulum
from airflow.sdk import DAG, Asset, AssetAlias, AssetAny, task
from airflow.timetables.trigger import CronTriggerTimetable

from dags.cycles import (
    GATE_ORDERS_CRON,
    GATE_ORDERS_DAG_ID,
    MAINTENANCE_CRON,
    MAINTENANCE_DAG_ID,
    TIMEZONE,
    DagSpec,
    dag_specs,
)
from dags.triggers import WaitForFilesSensor

T = TypeVar("T")

START = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)
RETRIES = 2
RETRY_DELAY = timedelta(minutes=2)
THEME_ALIAS = AssetAlias("govshare-theme-refresh")
FAILED_STATES = {"failed", "upstream_failed"}


def validated_asset(table: str) -> Asset:
    return Asset(uri=f"govshare://lake/validated/{table}", name=f"validated.{table}")


def theme_asset(table: str) -> Asset:
    return Asset(uri=f"govshare://lake/themes/{table}", name=f"themes.{table}")


# ---- what every task does around its body --------------------------------------------------


def _context() -> tuple[Any, Any, Any]:
    """The settings, the run reference and the task instance of the running task."""
    from airflow.sdk import get_current_context

    from dags.tasks import RunRef
    from infra.settings import get_settings

    context = get_current_context()
    dag_run = context["dag_run"]
    run = RunRef(
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        due=dag_run.logical_date or dag_run.run_after,
        started=dag_run.start_date,
    )
    return get_settings(), run, context["ti"]


def _guarded(task_id: str, resource_codes: list[str], body: Callable[[Any, Any], T]) -> T:
    """Run a body; transient errors retry, everything else fails now, recorded with its reason."""
    from airflow.exceptions import AirflowException, AirflowFailException

    from dags import tasks
    from infra.errors import GovshareError

    settings, run, ti = _context()
    try:
        return body(settings, run)
    except AirflowException:
        raise
    except GovshareError as error:
        last_try = ti.try_number > ti.max_tries
        if not error.transient or last_try:
            tasks.record_failure(
                settings,
                resource_codes=resource_codes,
                run=run,
                task_id=task_id,
                reason=error.message,
                error_code=error.error_code,
            )
        if error.transient:
            raise
        raise AirflowFailException(error.message) from error
    except Exception as error:
        # Unknown errors are not retried: the cause is in the task log, never in the
        # catalogue (it may quote data).
        reason = f"内部错误 (internal error): {type(error).__name__}"
        tasks.record_failure(
            settings,
            resource_codes=resource_codes,
            run=run,
            task_id=task_id,
            reason=reason,
            error_code="INTERNAL_ERROR",
        )
        raise AirflowFailException(reason) from error


def _finish(resource_codes: list[str]) -> dict[str, Any]:
    """Deadline check, then the run's verdict: failed if any other task failed."""
    from airflow.exceptions import AirflowFailException

    from dags import tasks
    from infra.errors import GovshareError

    settings, run, ti = _context()
    try:
        outcome = tasks.check_deadline(settings, resource_codes=resource_codes, run=run)
    except GovshareError as error:
        raise AirflowFailException(error.message) from error
    states = ti.get_task_states(dag_id=run.dag_id, run_ids=[run.run_id]).get(run.run_id, {})
    failed = sorted(t for t, s in states.items() if t != ti.task_id and str(s) in FAILED_STATES)
    if failed:
        raise AirflowFailException(f"本次运行未成功，失败步骤 (failed steps): {', '.join(failed)}")
    return outcome


# ---- DAGs ---------------------------------------------------------------------------------


def _defaults() -> dict[str, Any]:
    return {"owner": "govshare", "retries": 0, "retry_delay": RETRY_DELAY}


def ingest_dag(spec: DagSpec, themes: dict[str, str]) -> DAG:
    """The ingest DAG of one capability; ``themes`` maps theme resource codes to tables."""
    code, table = spec.resource_code, spec.table
    theme_codes = sorted(themes)
    codes = [code]
    doc = (
        f"### {spec.resource_name}（{code}）\n\n"
        f"提供方：{spec.provider_name}；更新周期：{spec.schedule_label}；"
        f"落地目录：`<landing_dir>/{table}/`；数据湖表：`validated.{table}`。\n\n"
        "每次运行须在当日（北京时间）推送完成 (same-day push rule)。"
    )
    with DAG(
        dag_id=spec.dag_id,
        description=spec.description,
        doc_md=doc,
        schedule=CronTriggerTimetable(spec.cron or "@daily", timezone=TIMEZONE),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=_defaults(),
        dagrun_timeout=timedelta(hours=6),
        tags=[t for t in spec.tags if t],
    ) as dag:
        # Deferrable: the triggerer waits for the file (dags.triggers), no worker slot is held.
        waiting = WaitForFilesSensor(
            task_id="wait_for_files",
            resource_code=code,
            table=table,
            poke_interval=spec.poke_every.total_seconds(),
            timeout=spec.wait.total_seconds(),
            soft_fail=True,  # no file by the end of the wait: nothing to push this time
        )

        @task(task_id="ingest_raw", retries=RETRIES)
        def ingest_raw(paths: list[str]) -> list[dict[str, Any]]:
            from dags import tasks

            return _guarded(
                "ingest_raw",
                codes,
                lambda s, run: tasks.ingest(s, resource_code=code, paths=paths, run=run),
            )

        @task(task_id="quality_gate")
        def quality_gate(summaries: list[dict[str, Any]]) -> dict[str, Any]:
            from dags import tasks

            return _guarded(
                "quality_gate", codes, lambda s, run: tasks.check_gate(s, summaries=summaries)
            )

        @task(task_id="publish_validated", retries=RETRIES, outlets=[validated_asset(table)])
        def publish_validated(
            summaries: list[dict[str, Any]], gate: dict[str, Any]
        ) -> dict[str, Any]:
            from dags import tasks

            return _guarded(
                "publish_validated",
                codes,
                lambda s, run: tasks.publish(
                    s, table=table, summaries=summaries, gate=gate, run=run
                ),
            )

        @task(task_id="update_catalogue", retries=RETRIES)
        def update_catalogue(
            summaries: list[dict[str, Any]], gate: dict[str, Any], published: dict[str, Any]
        ) -> dict[str, Any]:
            from dags import tasks

            return _guarded(
                "update_catalogue",
                codes,
                lambda s, run: tasks.update_catalogue(
                    s, resource_code=code, summaries=summaries, gate=gate, run=run
                ),
            )

        @task(task_id="refresh_themes", retries=RETRIES, outlets=[THEME_ALIAS])
        def refresh_themes(published: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
            from airflow.exceptions import AirflowSkipException
            from airflow.sdk import get_current_context

            from dags import tasks

            if not published.get("published"):
                raise AirflowSkipException("没有新入库的数据 (nothing new published)")
            affected = _guarded(
                "refresh_themes",
                codes,
                lambda s, run: tasks.affected_themes(s, table=table, themes=theme_codes),
            )
            if not affected:
                raise AirflowSkipException("本资源不是主题库来源 (feeds no theme)")
            events = get_current_context()["outlet_events"]
            for theme in affected:
                events[THEME_ALIAS].add(
                    theme_asset(themes[theme]),
                    extra={"resource_code": code, "table": table, "theme": theme},
                )
            return affected

        @task(task_id="finish_run", trigger_rule="all_done")
        def finish_run() -> dict[str, Any]:
            return _finish(codes)

        # TaskFlow passes XComArgs where the bodies receive values; mypy cannot see that.
        paths: Any = waiting.output
        summaries: Any = ingest_raw(paths)
        gate: Any = quality_gate(summaries)
        published: Any = publish_validated(summaries, gate)
        recorded: Any = update_catalogue(summaries, gate, published)
        refresh_themes(published, recorded) >> finish_run()
    return dag


def theme_dag(spec: DagSpec) -> DAG:
    themes = [dict(t) for t in spec.themes]
    codes = [t["resource_code"] for t in themes]
    by_uri = {theme_asset(t["table"]).uri: t["resource_code"] for t in themes}
    with DAG(
        dag_id=spec.dag_id,
        description=spec.description,
        doc_md=(
            "### 主题库刷新 (theme refresh)\n\n"
            "来源表入库后由数据资产事件触发，增量重建受影响的主题库；手动运行时重建全部主题库。"
        ),
        schedule=AssetAny(*(theme_asset(t["table"]) for t in themes)),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=_defaults(),
        dagrun_timeout=timedelta(hours=6),
        tags=list(spec.tags),
    ) as dag:

        @task(task_id="build_themes", retries=RETRIES)
        def build_themes() -> list[dict[str, Any]]:
            from airflow.sdk import get_current_context

            from dags import tasks

            # Asset-triggered: rebuild the themes whose sources published; manual: all.
            triggered = get_current_context().get("triggering_asset_events") or {}
            uris = {e.asset.uri for events in triggered.values() for e in events}
            chosen = sorted({by_uri[u] for u in uris if u in by_uri}) or codes
            return _guarded(
                "build_themes", chosen, lambda s, run: tasks.build_themes(s, themes=chosen, run=run)
            )

        @task(task_id="update_catalogue", retries=RETRIES)
        def update_catalogue(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
            from dags import tasks

            return _guarded(
                "update_catalogue",
                codes,
                lambda s, run: tasks.record_themes(s, summaries=summaries, run=run),
            )

        @task(task_id="finish_run", trigger_rule="all_done")
        def finish_run() -> dict[str, Any]:
            return _finish(codes)

        built: Any = build_themes()
        update_catalogue(built) >> finish_run()
    return dag


def maintenance_dag() -> DAG:
    """Daily lake maintenance: merge tables would otherwise keep every version on disk."""
    with DAG(
        dag_id=MAINTENANCE_DAG_ID,
        description="数据湖维护：合并小文件、检查点、清理回溯窗口之外的旧文件 (lake maintenance)",
        doc_md=(
            "### 数据湖维护 (lake maintenance)\n\n"
            "每日对每张数据湖表合并小文件、写检查点，并清理回溯窗口"
            "（GOVSHARE_LAKE_TIME_TRAVEL_HOURS）之外的版本不再需要的文件；"
            "窗口内的每个版本仍可读取，未提交的写入不受影响。"
        ),
        schedule=CronTriggerTimetable(MAINTENANCE_CRON, timezone=TIMEZONE),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=_defaults(),
        dagrun_timeout=timedelta(hours=6),
        tags=["govshare", "maintenance"],
    ) as dag:

        @task(task_id="maintain_lake", retries=RETRIES)
        def maintain_lake() -> list[dict[str, Any]]:
            from dags import tasks

            return _guarded("maintain_lake", [], lambda s, run: tasks.maintain_lake(s, run=run))

        maintain_lake()
    return dag


def gate_orders_dag() -> DAG:
    """Stewards' release and reject orders carried out on the lake.

    The API and the CLI record a decision in the catalogue and never start Spark themselves;
    this DAG commits released batches' staged rows (or discards rejected ones) every few
    minutes. A lake side that fails stays pending and is retried by the next run, the
    resource's next ingest or ``govshare quality apply``: the batch is never stuck.
    """
    with DAG(
        dag_id=GATE_ORDERS_DAG_ID,
        description="执行审核员的放行与退回决定 (carry out stewards' gate orders on the lake)",
        doc_md=(
            "### 放行与退回 (gate orders)\n\n"
            "审核员在接口或命令行放行、退回暂缓入库的批次时只记录决定；本流程每 5 分钟把"
            "已放行批次的合格行提交到 validated 表、清除已退回批次的暂存行；"
            "失败的会在下次运行重试。"
        ),
        schedule=CronTriggerTimetable(GATE_ORDERS_CRON, timezone=TIMEZONE),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=_defaults(),
        dagrun_timeout=timedelta(hours=1),
        tags=["govshare", "quality"],
    ) as dag:

        @task(task_id="apply_gate_orders", retries=RETRIES)
        def apply_gate_orders() -> list[dict[str, Any]]:
            from dags import tasks

            return _guarded(
                "apply_gate_orders", [], lambda s, run: tasks.apply_gate_orders(s, run=run)
            )

        apply_gate_orders()
    return dag


def build_dags(snapshot: dict[str, Any]) -> dict[str, DAG]:
    """Every DAG of the snapshot, by id, the lake's maintenance DAG and the gate orders' DAG."""
    specs = dag_specs(snapshot)
    themes = {t["resource_code"]: t["table"] for s in specs if s.kind == "themes" for t in s.themes}
    dags = {
        spec.dag_id: theme_dag(spec) if spec.kind == "themes" else ingest_dag(spec, themes)
        for spec in specs
    }
    dags[MAINTENANCE_DAG_ID] = maintenance_dag()
    dags[GATE_ORDERS_DAG_ID] = gate_orders_dag()
    return dags
