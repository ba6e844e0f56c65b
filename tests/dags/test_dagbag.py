"""Airflow parses the generated DAGs: no import errors, the right shape, no work at parse time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from catalog.snapshot import read_snapshot, snapshot_path
from dags.cycles import GATE_ORDERS_DAG_ID, MAINTENANCE_DAG_ID, THEME_DAG_ID, dag_specs
from dags.runner import DAGS_FOLDER
from infra.settings import Settings

INGEST_TASKS = [
    "wait_for_files", "ingest_raw", "quality_gate", "publish_validated",
    "update_catalogue", "refresh_themes", "finish_run",
]  # fmt: skip


def _bag() -> Any:
    from airflow.models.dagbag import DagBag

    return DagBag(str(DAGS_FOLDER), include_examples=False)


@pytest.fixture
def bag(dag_settings: Settings) -> Any:
    return _bag()


def test_dagbag_loads_without_import_errors(bag: Any, dag_settings: Settings) -> None:
    assert bag.import_errors == {}
    expected = {s.dag_id for s in dag_specs(read_snapshot(snapshot_path(dag_settings)))}
    expected |= {MAINTENANCE_DAG_ID, GATE_ORDERS_DAG_ID}
    assert set(bag.dag_ids) == expected and len(expected) == 21


def test_ingest_dags_share_one_pipeline_on_their_cycle(bag: Any, dag_settings: Settings) -> None:
    for spec in dag_specs(read_snapshot(snapshot_path(dag_settings))):
        dag = bag.dags[spec.dag_id]
        assert dag.catchup is False and dag.max_active_runs == 1
        if spec.kind == "themes":
            continue
        assert [t.task_id for t in dag.topological_sort()] == INGEST_TASKS, spec.dag_id
        assert dag.timetable._expression == spec.cron, spec.dag_id
        assert str(dag.timetable._timezone.name) == "Asia/Shanghai"
        tasks = dag.task_dict
        # Retries only where a transient error can occur; the verdicts never retry.
        assert tasks["ingest_raw"].retries == 2 and tasks["quality_gate"].retries == 0
        assert tasks["finish_run"].trigger_rule == "all_done"
        assert tasks["wait_for_files"].soft_fail is True
        outlets = [a.uri for a in tasks["publish_validated"].outlets]
        assert outlets == [f"govshare://lake/validated/{spec.table}"]


def test_theme_dag_runs_when_a_theme_source_publishes(bag: Any) -> None:
    dag = bag.dags[THEME_DAG_ID]
    assert [t.task_id for t in dag.topological_sort()] == [
        "build_themes",
        "update_catalogue",
        "finish_run",
    ]
    uris = {a.uri for a in dag.timetable.asset_condition.objects}
    assert uris == {
        "govshare://lake/themes/theme_enterprise",
        "govshare://lake/themes/theme_person",
    }


def test_lake_maintenance_runs_daily_at_night(bag: Any) -> None:
    dag = bag.dags[MAINTENANCE_DAG_ID]
    assert [t.task_id for t in dag.topological_sort()] == ["maintain_lake"]
    assert dag.timetable._expression == "0 3 * * *"
    assert str(dag.timetable._timezone.name) == "Asia/Shanghai"
    assert dag.catchup is False and dag.max_active_runs == 1


def test_parsing_reads_only_the_snapshot(dag_settings: Settings, tmp_path: Path) -> None:
    # Without a reachable catalogue the DAGs still parse: nothing queries it at parse time.
    Path(dag_settings.catalog_url.removeprefix("sqlite:///")).unlink()
    bag = _bag()
    assert bag.import_errors == {} and len(bag.dag_ids) == 21
