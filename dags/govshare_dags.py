"""Airflow DAG file: one ingest DAG per mounted capability, and the theme DAG.

It only reads the capability snapshot the catalogue writes (``catalog.snapshot``) and hands
it to ``dags.factory``; no database, network or Spark work happens while Airflow parses it.
"""

from __future__ import annotations

from catalog.snapshot import read_snapshot, snapshot_path
from dags.factory import build_dags
from infra import redaction
from infra.settings import get_settings

# The task processes import this file too: their jobs' logs carry no ID number either.
redaction.install()
for _dag_id, _dag in build_dags(read_snapshot(snapshot_path(get_settings()))).items():
    globals()[_dag_id] = _dag
