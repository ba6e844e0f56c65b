"""Whole DAG runs through Airflow (dag.test on a real SQLite metadata database) and Spark."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest

from catalog import batches, repository
from catalog.domain import MountState
from catalog.store import Catalog
from dags import tasks
from dags.lineage import events_path
from dags.runner import RunResult, run_dag
from infra.settings import Settings
from lake import delta
from pipelines.ingest import tables
from tests.pipelines.conftest import (
    REG_HEADERS,
    REG_TABLE,
    REGISTRATION,
    registration_row,
    write_csv,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("stop_spark_after")]

DAG_ID = "govshare_ingest_" + REG_TABLE


def _batches(settings: Settings) -> list[Any]:
    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        found = list(batches.batches(ctx, resource_code=REGISTRATION))
        mount = repository.resource(ctx.session, REGISTRATION).mounts[0]
        state, refreshed = mount.state, mount.last_refreshed_at
    catalog.dispose()
    return [found, state, refreshed]


def xcom(result: RunResult, task_id: str) -> Any:
    """What a task of the run returned, as the next task received it (Airflow's XCom)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(
            run_id=result.run_id, key="return_value", task_ids=task_id, dag_ids=result.dag_id
        )
        [found] = session.scalars(query).all()
        return XComModel.deserialize_value(found)


def _events(settings: Settings) -> list[dict[str, Any]]:
    lines = events_path(settings).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_a_run_ingests_publishes_and_records_in_the_catalogue(dag_settings: Settings) -> None:
    write_csv(
        dag_settings.landing_dir / REG_TABLE / "reg_day1.csv",
        [registration_row(n) for n in range(1, 9)],
    )

    result = run_dag(dag_settings, DAG_ID, configure=False)

    assert result.state == "success", result.tasks
    assert set(result.tasks.values()) == {"success"}
    validated = pa.table(delta.read(tables(dag_settings, REG_TABLE)["validated"]))
    assert validated.num_rows == 8
    found, state, refreshed = _batches(dag_settings)
    assert [b.status for b in found] == [batches.PUBLISHED]
    assert state is MountState.MOUNTED and refreshed is not None
    recorded = tasks.run_history(dag_settings, resource_code=REGISTRATION)
    assert [h["action"] for h in recorded] == [tasks.RUN_RECORDED]
    assert recorded[0]["run_id"] == result.run_id
    assert recorded[0]["pass_rate"] == 1.0 and recorded[0]["rows_read"] == 8
    # Each task did what its name says and handed its result to the next through XCom: the
    # stage step the batch ids, the gate its decision, the publish step the table version.
    [batch] = found
    assert [s["batch_id"] for s in xcom(result, "ingest_raw")] == [batch.batch_id]
    assert xcom(result, "quality_gate")["decisions"] == {batch.batch_id: "published"}
    published = xcom(result, "publish_validated")
    assert published["versions"] == {batch.batch_id: batch.table_version}
    assert published["version"] == delta.version(tables(dag_settings, REG_TABLE)["validated"])
    # Lineage: the source file in, the three Delta tables out, on one OpenLineage run.
    events = _events(dag_settings)
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    assert len({e["run"]["runId"] for e in events}) == 1
    complete = events[-1]
    assert complete["inputs"][0]["name"].endswith(f"{REG_TABLE}/reg_day1.csv")
    outputs = {o["facets"]["symlinks"]["identifiers"][0]["name"]: o for o in complete["outputs"]}
    assert set(outputs) == {f"{layer}.{REG_TABLE}" for layer in ("raw", "quarantine", "validated")}
    assert outputs[f"validated.{REG_TABLE}"]["outputFacets"]["outputStatistics"]["rowCount"] == 8
    # The registration table feeds 一企一档, so the theme refresh asset event was emitted.
    assert result.tasks["refresh_themes"] == "success"


def test_a_refused_file_fails_the_run_once_and_is_recorded(dag_settings: Settings) -> None:
    headers = [*REG_HEADERS[:-1], "行业门类"]  # a renamed column: schema drift, not transient
    write_csv(
        dag_settings.landing_dir / REG_TABLE / "drift.csv",
        [registration_row(1)],
        headers=headers,
    )

    result = run_dag(dag_settings, DAG_ID, configure=False)

    assert result.state == "failed"
    assert result.tasks["ingest_raw"] == "failed"
    assert result.tasks["quality_gate"] == "upstream_failed"
    assert result.tasks["finish_run"] == "failed"
    found, _, _ = _batches(dag_settings)
    assert [b.status for b in found] == [batches.REJECTED]
    failures = tasks.run_history(dag_settings, resource_code=REGISTRATION)
    # Recorded once: a non-transient error is not retried.
    assert [(h["action"], h["task"]) for h in failures] == [(tasks.RUN_FAILED, "ingest_raw")]
    assert failures[0]["error"] == "SCHEMA_DRIFT" and failures[0]["reason"]
    assert [e["eventType"] for e in _events(dag_settings)] == ["START", "FAIL"]


def test_a_batch_below_the_pass_rate_threshold_holds_the_run(dag_settings: Settings) -> None:
    rows = [registration_row(n) for n in range(1, 5)]
    rows += [registration_row(n, 成立日期="2020-13-45") for n in range(5, 9)]  # 50% fail
    write_csv(dag_settings.landing_dir / REG_TABLE / "poor.csv", rows)

    result = run_dag(dag_settings, DAG_ID, configure=False)

    found, _, _ = _batches(dag_settings)
    assert result.state == "failed"
    assert result.tasks["ingest_raw"] == "success"
    assert result.tasks["quality_gate"] == "failed"
    assert result.tasks["publish_validated"] == "upstream_failed"
    assert [b.status for b in found] == [batches.HELD]
    failures = tasks.run_history(dag_settings, resource_code=REGISTRATION)
    assert [(h["action"], h["task"], h["error"]) for h in failures] == [
        (tasks.RUN_FAILED, "quality_gate", "QUALITY_HELD")
    ]
    assert not delta.exists(tables(dag_settings, REG_TABLE)["validated"]) or (
        pa.table(delta.read(tables(dag_settings, REG_TABLE)["validated"])).num_rows == 0
    )


def test_running_an_ingest_dag_with_no_new_file_refuses_at_once(dag_settings: Settings) -> None:
    from dags.errors import NothingToRun

    done = write_csv(dag_settings.landing_dir / REG_TABLE / "day1.csv", [registration_row(1)])
    assert run_dag(dag_settings, DAG_ID, configure=False).state == "success"
    assert done.exists()  # the file is settled now: nothing new is left for the sensor

    with pytest.raises(NothingToRun) as refused:
        run_dag(dag_settings, DAG_ID, configure=False)

    assert str(dag_settings.landing_dir / REG_TABLE) in refused.value.message
    assert refused.value.error_code == "NO_NEW_FILES"


def test_an_empty_push_passes_the_run_and_is_recorded_as_empty(dag_settings: Settings) -> None:
    write_csv(dag_settings.landing_dir / REG_TABLE / "header_only.csv", [])

    result = run_dag(dag_settings, DAG_ID, configure=False)

    assert result.state == "success", result.tasks
    found, _state, refreshed = _batches(dag_settings)
    assert [b.status for b in found] == [batches.EMPTY]
    assert refreshed is None  # a header-only file does not make the mount fresh
    history = tasks.run_history(dag_settings, resource_code=REGISTRATION)
    assert [h["action"] for h in history] == [tasks.RUN_RECORDED, tasks.EMPTY_PUSH]
    assert history[0]["empty_batches"] == ["header_only.csv"]
    assert history[1]["files"] == ["header_only.csv"] and "空批次" in history[1]["reason"]


def test_the_maintenance_dag_maintains_every_lake_table(dag_settings: Settings) -> None:
    from dags.cycles import MAINTENANCE_DAG_ID
    from jobs.batch import ingest_one

    path = write_csv(dag_settings.landing_dir / REG_TABLE / "reg.csv", [registration_row(1)])
    ingest_one(dag_settings, resource_code=REGISTRATION, path=path)
    validated = tables(dag_settings, REG_TABLE)["validated"]
    before = delta.version(validated)

    result = run_dag(dag_settings, MAINTENANCE_DAG_ID, configure=False)

    assert result.state == "success", result.tasks
    # Every table got its checkpoint; nothing was outside the window, so nothing was vacuumed.
    for ref in tables(dag_settings, REG_TABLE).values():
        if delta.exists(ref):
            assert (ref.path / "_delta_log" / "_last_checkpoint").exists(), ref.qualified
    assert delta.read(validated, version=before).num_rows == 1
