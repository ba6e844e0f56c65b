"""`govshare airflow up` starts the real services on PostgreSQL, and Airflow's scheduler (not
`dag.test()`) runs an ingest DAG: its sensor defers to the triggerer until a file lands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.store import Catalog
from infra.processes import group_alive
from infra.settings import Settings
from tests.exchange_api.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

ROOT = Path(__file__).resolve().parents[2]
# 电子证照信息: a realtime base library (every 5 minutes) whose demo extract needs no other table.
TABLE = "sjj_e_licences"
DAG_ID = "govshare_ingest_" + TABLE


def _env(settings: Settings, landing: Path, schema: str) -> dict[str, str]:
    """The test's settings, nothing of the session's in-process Airflow configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "GOVSHARE_HOME": str(settings.home),
            "GOVSHARE_DATABASE_URL": settings.catalog_url,
            "GOVSHARE_LANDING_DIR": str(landing),
            "GOVSHARE_AIRFLOW_SCHEMA": schema,
            "GOVSHARE_SPARK_MASTER": "local[1]",
            "GOVSHARE_SPARK_DRIVER_MEMORY": "1g",
            # Quick heartbeats for the health check; no re-parsing while the test runs.
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        }
    )
    return env


def _govshare(env: dict[str, str], *args: str, timeout: float = 300) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "govshare", *args, "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture
def airflow_schema(demo_catalog: Catalog) -> str:
    """Airflow's own schema in the test's own database, which is dropped with it."""
    assert demo_catalog.settings.catalog_url.startswith("postgresql")
    return "airflow"


def _state(url: str, headers: dict[str, str], path: str) -> Any:
    answer = httpx.get(f"{url}/api/v2/dags/{DAG_ID}{path}", headers=headers, timeout=10)
    answer.raise_for_status()
    return answer.json()


def _wait(what: str, check: Any, seconds: float = 240) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_scheduler_runs_an_ingest_dag_when_its_file_lands(
    demo_catalog: Catalog, airflow_schema: str, tmp_path: Path
) -> None:
    settings = demo_catalog.settings
    landing = tmp_path / "landing"
    landing.mkdir()
    env = _env(settings, landing, airflow_schema)
    # The department's extract, generated aside and dropped into the landing folder later.
    staged = tmp_path / "staged"
    _govshare(env, "synth", "--scale", "1000", "--defect-rate", "0", "--resources", TABLE,
              "--out", str(staged))  # fmt: skip
    port = free_port()
    started = _govshare(
        env, "airflow", "up", "--keep-paused", "--port", str(port),
        "--log-port", str(free_port()), "--trigger-log-port", str(free_port()),
    )  # fmt: skip
    pids = [s["pid"] for s in started["services"]]
    try:
        assert started["database"] == "postgresql" and started["executor"] == "LocalExecutor"
        assert all(s["alive"] for s in started["services"]) and DAG_ID in started["dags"]
        url = started["url"]
        token = httpx.post(
            f"{url}/auth/token",
            json={"username": started["user"], "password": started["password"]},
            timeout=10,
        )
        assert token.status_code == 201, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        unpaused = httpx.patch(
            f"{url}/api/v2/dags/{DAG_ID}", json={"is_paused": False}, headers=headers, timeout=10
        )
        assert unpaused.status_code == 200 and unpaused.json()["is_paused"] is False

        # The scheduler starts the latest 5-minute slot; with no file its sensor defers.
        def deferred() -> str | None:
            for run in _state(url, headers, "/dagRuns")["dag_runs"]:
                tasks = _state(url, headers, f"/dagRuns/{run['dag_run_id']}/taskInstances")
                states = {t["task_id"]: t["state"] for t in tasks["task_instances"]}
                if states.get("wait_for_files") == "deferred":
                    return str(run["dag_run_id"])
            return None

        run_id = _wait("the sensor to defer", deferred)
        shutil.move(staged / TABLE, landing / TABLE)  # the file lands

        def finished() -> dict[str, Any] | None:
            run = _state(url, headers, f"/dagRuns/{run_id}")
            return run if run["state"] in ("success", "failed") else None

        run = _wait("the run to finish", finished)
        tasks = _state(url, headers, f"/dagRuns/{run_id}/taskInstances")["task_instances"]
        states = {t["task_id"]: t["state"] for t in tasks}
        assert run["state"] == "success", states
        assert run["run_type"] == "scheduled"  # the scheduler's run, not a test run
        assert states["ingest_raw"] == "success" and states["publish_validated"] == "success"
    finally:
        stopped = _govshare(env, "airflow", "down")
    assert sorted(stopped["stopped"]) == sorted(s["service"] for s in started["services"])
    assert stopped["still_running"] == []
    assert not any(group_alive(pid) for pid in pids)
    assert _govshare(env, "airflow", "status")["running"] is False
