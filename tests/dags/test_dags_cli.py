"""``govshare dags`` through the real command, as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from infra.settings import Settings


def _govshare(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        GOVSHARE_HOME=str(settings.home),
        GOVSHARE_DATABASE_URL=settings.catalog_url,
        COLUMNS="200",
    )
    return subprocess.run(
        [sys.executable, "-m", "govshare", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_dags_list_shows_every_generated_dag_with_its_schedule(dag_settings: Settings) -> None:
    listed = _govshare(dag_settings, "dags", "list", "--json")

    assert listed.returncode == 0, listed.stderr
    rows = {r["dag_id"]: r for r in json.loads(listed.stdout)["data"]}
    assert len(rows) == 21
    assert rows["govshare_maintenance"]["schedule"] == "0 3 * * *"
    assert rows["govshare_gate_orders"]["schedule"] == "*/5 * * * *"
    population = rows["govshare_ingest_ga_population"]
    assert (population["schedule"], population["update_cycle"]) == ("0 20 * * *", "每日")
    assert rows["govshare_themes"]["themes"] == ["000008002/000001", "000008002/000002"]
    table = _govshare(dag_settings, "dags", "list")
    assert table.returncode == 0 and "govshare_ingest_ga_fugitives" in table.stdout
