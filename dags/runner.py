"""Running the generated DAGs through Airflow from govshare itself (CLI, demo, tests).

Airflow reads its configuration when it is first imported, so :func:`configure_airflow`
must run before anything imports ``airflow``: it points ``AIRFLOW_HOME`` and the metadata
database under ``GOVSHARE_HOME/airflow`` (SQLite by default; a PostgreSQL URL already set
in ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` is kept) and the DAGs folder at this package.

:func:`run_dag` runs one DAG run end to end in this process with ``dag.test()`` (real
metadata database, real task instances, no scheduler needed), which is what the demo uses.
The settings passed in must be the process's settings (``infra.settings.get_settings()``),
because the DAG file and the tasks read those.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from catalog.snapshot import read_snapshot, snapshot_path
from catalog.store import refresh_snapshot
from dags.cycles import (
    GATE_ORDERS_CRON,
    GATE_ORDERS_DAG_ID,
    MAINTENANCE_CRON,
    MAINTENANCE_DAG_ID,
    TIMEZONE,
    DagSpec,
    dag_specs,
)
from dags.errors import NothingToRun
from infra.errors import ConfigurationError, NotFound
from infra.settings import Settings

DAGS_FOLDER = Path(__file__).resolve().parent
BUNDLE = "dags-folder"
# Operator choices that override our defaults when already set in the environment.
KEEP_IF_SET = (
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__LOGGING__LOGGING_LEVEL",
    "AIRFLOW__CORE__EXECUTOR",  # CeleryExecutor for several worker machines (docs/deploy.md)
)


@dataclass
class RunResult:
    """How one DAG run ended, task by task."""

    dag_id: str
    run_id: str
    state: str
    logical_date: str | None
    tasks: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state == "success"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def airflow_database_url(settings: Settings) -> str:
    """Airflow's metadata database: beside a PostgreSQL catalogue, else SQLite under home.

    On PostgreSQL it is the catalogue's own database with ``search_path`` set to
    ``settings.airflow_schema``: Airflow's tables (and its ``alembic_version``) live in their
    own schema, so the catalogue's migrations and Airflow's never see each other's tables.
    """
    url = settings.catalog_url
    if not url.startswith("postgresql"):
        return f"sqlite:///{settings.airflow_home / 'airflow.db'}"
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    query = {k: v for k, v in parsed.query.items() if k != "options"}
    query["options"] = f"-csearch_path={settings.airflow_schema}"
    # psycopg 3 also serves Airflow's async engine (asyncpg is not installed).
    parsed = parsed.set(drivername="postgresql+psycopg").set(query=query)
    return parsed.render_as_string(hide_password=False)


def _ensure_airflow_schema(settings: Settings, conn: str) -> None:
    """Create the Airflow schema on the catalogue's PostgreSQL database when we chose it."""
    if conn != airflow_database_url(settings) or not conn.startswith("postgresql"):
        return  # SQLite, or a database the operator configured for Airflow
    from sqlalchemy import create_engine, text

    engine = create_engine(settings.catalog_url)
    try:
        with engine.begin() as db:
            db.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{settings.airflow_schema}"'))
    finally:
        engine.dispose()


def airflow_environment(settings: Settings) -> dict[str, str]:
    """The environment Airflow needs to keep everything under GOVSHARE_HOME."""
    home = settings.airflow_home
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_database_url(settings),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        # Airflow logs to stdout; keep it to warnings so ``--json`` output stays parseable.
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        # Tasks started by Airflow read the platform's settings from the environment.
        "GOVSHARE_HOME": str(settings.home.resolve()),
    }


def configure_airflow(settings: Settings) -> dict[str, str]:
    """Export the Airflow environment for this process; must precede the first Airflow import."""
    wanted = airflow_environment(settings)
    if "airflow" in sys.modules:
        if os.environ.get("AIRFLOW_HOME") != wanted["AIRFLOW_HOME"]:
            raise ConfigurationError(
                "Airflow 已按其他 AIRFLOW_HOME 加载，无法切换 (Airflow was imported with another "
                f"AIRFLOW_HOME: {os.environ.get('AIRFLOW_HOME')})"
            )
        return wanted
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    for key, value in wanted.items():
        if key in KEEP_IF_SET:
            os.environ.setdefault(key, value)  # e.g. a configured PostgreSQL metadata DB wins
        else:
            os.environ[key] = value
    conn = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if conn.startswith("postgresql+psycopg://"):
        # Airflow also opens an async engine, asyncpg by default (not installed); psycopg 3
        # serves both.
        os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC", conn)
    return wanted


def list_dags(settings: Settings) -> list[dict[str, Any]]:
    """The DAGs the current snapshot generates, the maintenance and gate-order DAGs (no Airflow
    import, no database)."""
    rows = [spec.as_dict() for spec in dag_specs(read_snapshot(snapshot_path(settings)))]
    if rows:
        rows.append(
            {
                "dag_id": MAINTENANCE_DAG_ID,
                "kind": "maintenance",
                "schedule": MAINTENANCE_CRON,
                "schedule_label": "每日 03:00",
                "timezone": TIMEZONE,
                "resource_code": "",
                "resource_name": "",
                "table": "",
                "update_cycle": "",
                "provider": "",
                "themes": [],
                "description": "数据湖维护：合并小文件、检查点、清理回溯窗口之外的旧文件",
            }
        )
        rows.append(
            {
                "dag_id": GATE_ORDERS_DAG_ID,
                "kind": "quality",
                "schedule": GATE_ORDERS_CRON,
                "schedule_label": "每 5 分钟",
                "timezone": TIMEZONE,
                "resource_code": "",
                "resource_name": "",
                "table": "",
                "update_cycle": "",
                "provider": "",
                "themes": [],
                "description": "执行审核员的放行与退回决定",
            }
        )
    return rows


def _load_bag() -> Any:
    from airflow.models.dagbag import DagBag

    bag = DagBag(str(DAGS_FOLDER), include_examples=False)
    if bag.import_errors:
        problems = [
            f"{Path(p).name}: {e.strip().splitlines()[-1]}" for p, e in bag.import_errors.items()
        ]
        raise ConfigurationError("DAG 文件导入失败 (DAG import errors)", details=problems)
    return bag


def _one_in_process_api() -> None:
    """Backport of apache/airflow#65235 (Airflow 3.2; this project pins 3.1, see STACK.md).

    ``dag.test`` builds a new in-process Execution API for every task it runs: a
    Cadwyn-versioned FastAPI app whose routes are generated anew, and the event-loop thread
    of its WSGI bridge. That was 40% of a DAG run's Python time here (six tasks). The API
    holds no run's state, so, as upstream now does and as Airflow's DAG processor manager
    always did, one is kept per process. Left as in 3.1: a trigger run in-process after a
    task sees that task's (database-backed, so equal) DAG bag.
    """
    from airflow.sdk.execution_time import supervisor

    if not hasattr(supervisor.in_process_api_server, "cache_clear"):  # not cached upstream yet
        supervisor.in_process_api_server = functools.cache(supervisor.in_process_api_server)


def sync(
    settings: Settings, *, configure: bool = True, unpause: bool | None = None
) -> dict[str, Any]:
    """Refresh the snapshot, migrate Airflow's metadata database and register the DAGs.

    ``unpause`` (default: ``settings.airflow_unpause_on_sync``) lets the scheduler run them:
    Airflow registers new DAGs paused.
    """
    changed = refresh_snapshot(settings)
    if configure:
        configure_airflow(settings)
    _ensure_airflow_schema(settings, os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", ""))
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.models.dagbag import sync_bag_to_db
    from airflow.utils.db import initdb

    initdb()
    bag = _load_bag()
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, BUNDLE, None)
    unpaused = settings.airflow_unpause_on_sync if unpause is None else unpause
    if unpaused:
        set_paused(sorted(bag.dag_ids), paused=False)
    return {
        "snapshot": str(snapshot_path(settings)),
        "snapshot_changed": changed,
        "dags": sorted(bag.dag_ids),
        "unpaused": unpaused,
    }


def set_paused(dag_ids: list[str], *, paused: bool) -> None:
    """Pause or unpause registered DAGs in Airflow's metadata database."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(DagModel).filter(DagModel.dag_id.in_(dag_ids)).update(
            {DagModel.is_paused: paused}, synchronize_session=False
        )


def _ingest_spec(settings: Settings, dag_id: str) -> DagSpec | None:
    for spec in dag_specs(read_snapshot(snapshot_path(settings))):
        if spec.dag_id == dag_id and spec.kind == "ingest":
            return spec
    return None


def _landing_of(settings: Settings, dag_id: str) -> str:
    spec = _ingest_spec(settings, dag_id)
    return str(settings.landing_dir / spec.table) if spec is not None else ""


def _has_work(settings: Settings, dag_id: str) -> bool:
    """An ingest DAG has work when its landing folder holds a file not yet settled."""
    from dags.tasks import new_files

    spec = _ingest_spec(settings, dag_id)
    if spec is None:
        return True  # the theme DAG and others do not wait for files
    return bool(new_files(settings, resource_code=spec.resource_code, table=spec.table))


def _fail_running(dag_id: str) -> None:
    """Mark the DAG's runs still "running" as failed after an interrupted test run."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState

    with create_session() as session:
        for run in session.query(DagRun).filter(
            DagRun.dag_id == dag_id, DagRun.state == DagRunState.RUNNING
        ):
            run.set_state(DagRunState.FAILED)


def run_dag(
    settings: Settings,
    dag_id: str,
    *,
    logical_date: datetime | None = None,
    conf: dict[str, Any] | None = None,
    configure: bool = True,
) -> RunResult:
    """Run one generated DAG end to end through Airflow and report how every task ended."""
    return run_dags(settings, [dag_id], logical_date=logical_date, conf=conf, configure=configure)[
        0
    ]


def run_dags(
    settings: Settings,
    dag_ids: list[str],
    *,
    logical_date: datetime | None = None,
    conf: dict[str, Any] | None = None,
    configure: bool = True,
    on_done: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Run several DAGs one after another after a single sync (the demo runs all of them).

    Syncing migrates and registers everything (seconds each time), so it happens once; the
    runs share this process, and with it the Spark session the ingest tasks start.
    """
    registered = sync(settings, configure=configure)
    missing = [d for d in dag_ids if d not in registered["dags"]]
    if missing:
        raise NotFound(f"没有这个 DAG (no such DAG): {', '.join(missing)}")
    idle = [d for d in dag_ids if not _has_work(settings, d)]
    if idle:
        raise NothingToRun(
            "落地目录中没有新文件，未运行 (no new file in the landing folder, nothing run): "
            + "；".join(f"{d} ← {_landing_of(settings, d)}" for d in idle)
        )
    bag = _load_bag()
    _one_in_process_api()
    results = []
    for dag_id in dag_ids:
        started = time.perf_counter()
        kwargs: dict[str, Any] = {"run_conf": conf}
        if logical_date is not None:
            kwargs["logical_date"] = logical_date
        try:
            dag_run = bag.dags[dag_id].test(**kwargs)
        except KeyboardInterrupt:
            _fail_running(dag_id)  # never leave a run "running": it would block the DAG
            raise
        states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
        result = RunResult(
            dag_id=dag_id,
            run_id=dag_run.run_id,
            state=str(dag_run.state),
            logical_date=dag_run.logical_date.isoformat() if dag_run.logical_date else None,
            tasks=states,
            seconds=round(time.perf_counter() - started, 2),
        )
        results.append(result)
        if on_done is not None:
            on_done(result)
    return results
