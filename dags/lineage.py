"""OpenLineage events for scheduled runs: which source files became which Delta tables.

Each Airflow run of a generated DAG is one OpenLineage run (its id derived from the DAG and
Airflow run ids, so every task of the run reports on the same run): START when ingest
begins, with the source files as inputs; COMPLETE after publishing, with the raw,
quarantine and validated tables (and their Delta versions) as outputs; FAIL with the reason
when a task gives up.

By default events are appended to ``$GOVSHARE_HOME/lineage/openlineage.jsonl`` (one JSON
event a line). A deployment that configures OpenLineage itself (``openlineage.yml``,
``OPENLINEAGE_CONFIG``, ``OPENLINEAGE__TRANSPORT__*`` or ``OPENLINEAGE_URL``: Marquez,
DataHub, OpenMetadata...) gets its own transport instead.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from infra.settings import Settings

NAMESPACE = "govshare"
PRODUCER = "https://github.com/govshare/govshare/tree/main/dags"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineageDataset:
    """A file or table as OpenLineage names it, with a logical alias and optional stats."""

    namespace: str
    name: str
    alias: str = ""  # e.g. validated.scjg_enterprise_registration
    version: int | None = None
    rows: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def events_path(settings: Settings) -> Path:
    return settings.lineage_events_path


def run_uuid(dag_id: str, run_id: str) -> str:
    """One stable OpenLineage run id per Airflow run, whichever task asks."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"govshare-airflow:{dag_id}/{run_id}"))


def location_dataset(location: str, *, alias: str = "", **kwargs: Any) -> LineageDataset:
    """OpenLineage naming: local paths are ``file`` + absolute path, URLs keep scheme://host."""
    parsed = urlparse(location)
    if parsed.scheme and parsed.scheme != "file" and len(parsed.scheme) > 1:
        return LineageDataset(
            f"{parsed.scheme}://{parsed.netloc}", parsed.path.lstrip("/"), alias, **kwargs
        )
    path = parsed.path if parsed.scheme == "file" else location
    return LineageDataset("file", str(Path(path).resolve()), alias, **kwargs)


def _client(settings: Settings) -> Any:
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.console import ConsoleTransport
    from openlineage.client.transport.file import FileConfig, FileTransport

    # The client falls back to printing on the console (with a warning) when nothing is
    # configured; that fallback is exactly when our file default applies.
    client_log = logging.getLogger("openlineage.client.client")
    level = client_log.level
    client_log.setLevel(logging.ERROR)
    try:
        client = OpenLineageClient()
    finally:
        client_log.setLevel(level)
    if isinstance(client.transport, ConsoleTransport):
        path = events_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        client = OpenLineageClient(
            transport=FileTransport(FileConfig(log_file_path=str(path), append=True))
        )
    return client


def _datasets(items: list[LineageDataset], *, output: bool) -> list[Any]:
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.facet_v2 import (
        dataset_version_dataset,
        output_statistics_output_dataset,
        symlinks_dataset,
    )

    found: list[Any] = []
    for item in items:
        facets: dict[str, Any] = {}
        if item.alias:
            facets["symlinks"] = symlinks_dataset.SymlinksDatasetFacet(
                identifiers=[
                    symlinks_dataset.Identifier(namespace=NAMESPACE, name=item.alias, type="TABLE")
                ]
            )
        if item.version is not None:
            facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
                datasetVersion=str(item.version)
            )
        if output:
            stats: dict[str, Any] = {}
            if item.rows is not None:
                stats["outputStatistics"] = (
                    output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                        rowCount=item.rows
                    )
                )
            found.append(
                OutputDataset(
                    namespace=item.namespace, name=item.name, facets=facets, outputFacets=stats
                )
            )
        else:
            found.append(InputDataset(namespace=item.namespace, name=item.name, facets=facets))
    return found


def emit(
    settings: Settings,
    *,
    state: str,
    dag_id: str,
    run_id: str,
    at: datetime,
    inputs: list[LineageDataset] | None = None,
    outputs: list[LineageDataset] | None = None,
    nominal: datetime | None = None,
    error: str | None = None,
) -> None:
    """Emit one run event (state: START, COMPLETE or FAIL); lineage never fails a run."""
    try:
        from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
        from openlineage.client.facet_v2 import error_message_run, job_type_job, nominal_time_run

        run_facets: dict[str, Any] = {}
        if nominal is not None:
            run_facets["nominalTime"] = nominal_time_run.NominalTimeRunFacet(
                nominalStartTime=nominal.isoformat()
            )
        if error:
            run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=error, programmingLanguage="python"
            )
        event = RunEvent(
            eventType=RunState[state],
            eventTime=at.isoformat(),
            run=Run(runId=run_uuid(dag_id, run_id), facets=run_facets),
            job=Job(
                namespace=NAMESPACE,
                name=dag_id,
                facets={
                    "jobType": job_type_job.JobTypeJobFacet(
                        processingType="BATCH", integration="AIRFLOW", jobType="DAG"
                    )
                },
            ),
            inputs=_datasets(inputs or [], output=False),
            outputs=_datasets(outputs or [], output=True),
            producer=PRODUCER,
        )
        client = _client(settings)
        client.emit(event)
        client.close(timeout=5)
    except Exception:  # a lineage sink being down must not fail the data load
        log.warning("OpenLineage event not emitted for %s/%s", dag_id, run_id, exc_info=True)
