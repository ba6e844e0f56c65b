"""Ingest jobs as people and schedulers run them: catalogue in, lake out, catalogue updated.

A job resolves the resource's 库表 mount and its plan, finds the source files in the landing
folder (or takes the one given), runs each file as a batch and records the outcome in the
catalogue: counts, table version, status, and the mount's state and freshness.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from catalog import batches, repository
from catalog.context import utcnow
from catalog.domain import MountState, ResourceState
from catalog.store import Catalog
from infra.settings import Settings
from pipelines.errors import PipelineError
from pipelines.ingest import BatchSummary, batch_id_for, ingest_file
from pipelines.plan import IngestPlan, plan_for
from pipelines.sources import FORMATS, file_digest


def landing_files(settings: Settings, table: str) -> list[Path]:
    folder = settings.landing_dir / table
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FORMATS)


def _plan(catalog: Catalog, resource_code: str) -> IngestPlan:
    with catalog.unit() as ctx:
        resource = repository.resource(ctx.session, resource_code)
        mount = batches.ensure_table_mount(ctx, resource)
        return plan_for(resource, mount)


def _quarantine_file(settings: Settings, plan: IngestPlan, path: Path, batch_id: str) -> str:
    """A rejected file is kept whole, next to the quarantine table, for the provider to fix."""
    target = Path(settings.lake_path) / "quarantine" / "_files" / plan.table / batch_id
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, target / path.name)
    return str(target / path.name)


def _count_rows(path: Path) -> int:
    """Rows in a rejected file, so that even a refused batch accounts for every row."""
    if path.suffix.lower() in (".csv", ".txt", ".jsonl", ".ndjson", ".json"):
        with path.open("rb") as handle:
            lines = sum(1 for line in handle if line.strip())
        return max(lines - (1 if path.suffix.lower() in (".csv", ".txt") else 0), 0)
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_metadata(path).num_rows
    return 0


def ingest_one(
    settings: Settings,
    *,
    resource_code: str,
    path: Path,
    clock: Callable[[], datetime] = utcnow,
) -> BatchSummary:
    """Run one file through one resource's mount and record it in the catalogue."""
    catalog = Catalog(settings, clock=clock)
    try:
        plan = _plan(catalog, resource_code)
        sha, size = file_digest(path)
        batch_id = batch_id_for(plan, sha)
        with catalog.unit() as ctx:
            known = batches.batch_or_none(ctx, batch_id)
            if known is not None and known.status == batches.PUBLISHED:
                return BatchSummary(
                    batch_id=batch_id,
                    resource_code=resource_code,
                    table=plan.table,
                    source_file=str(path),
                    rows_read=known.rows_read,
                    rows_accepted=known.rows_accepted,
                    rows_quarantined=known.rows_quarantined,
                    table_version=known.table_version,
                    skipped=True,
                    file_sha256=sha,
                    file_bytes=size,
                )
            resource = repository.resource(ctx.session, resource_code)
            mount = repository.mount(ctx.session, plan.mount_id)
            batches.start_batch(
                ctx,
                batch_id=batch_id,
                resource=resource,
                mount=mount,
                source_file=str(path),
                file_sha256=sha,
                file_bytes=size,
            )
        received = clock()
        try:
            summary = ingest_file(settings, plan, path, received_at=received)
        except PipelineError as error:
            kept = _quarantine_file(settings, plan, path, batch_id)
            rows = _count_rows(path)
            with catalog.unit() as ctx:
                batches.finish_batch(
                    ctx,
                    batch_id=batch_id,
                    status=batches.REJECTED,
                    rows_read=rows,
                    rows_accepted=0,
                    rows_quarantined=rows,
                    table_version=None,
                    message=error.message,
                    details={"error": error.error_code, "kept_at": kept, **_details(error)},
                )
            raise
        except Exception as error:
            with catalog.unit() as ctx:
                batches.finish_batch(
                    ctx,
                    batch_id=batch_id,
                    status=batches.FAILED,
                    rows_read=0,
                    rows_accepted=0,
                    rows_quarantined=0,
                    table_version=None,
                    message=f"内部错误 (internal error): {type(error).__name__}",
                )
            raise
        with catalog.unit() as ctx:
            batches.finish_batch(
                ctx,
                batch_id=batch_id,
                status=batches.PUBLISHED,
                rows_read=summary.rows_read,
                rows_accepted=summary.rows_accepted,
                rows_quarantined=summary.rows_quarantined,
                table_version=summary.table_version,
                message="",
                details={"reasons": summary.reasons, "seconds": summary.seconds},
            )
            mount = repository.mount(ctx.session, plan.mount_id)
            batches.land(ctx, mount=mount, at=received)
        return summary
    finally:
        catalog.dispose()


def _details(error: PipelineError) -> dict[str, object]:
    return error.details if isinstance(error.details, dict) else {}


def ingestable_resources(settings: Settings) -> list[tuple[str, str]]:
    """(resource code, table) of every published resource with a usable 库表 mount."""
    catalog = Catalog(settings)
    try:
        with catalog.unit() as ctx:
            found = []
            for resource in repository.resources(
                ctx.session, states=[ResourceState.PUBLISHED, ResourceState.RETIRING]
            ):
                for mount in resource.mounts:
                    if (
                        mount.state
                        in (
                            MountState.MOUNTED,
                            MountState.CHANGE_PENDING,
                            MountState.PENDING,
                            MountState.UNMOUNTED,
                        )
                        and mount.kind.name == "TABLE"
                    ):
                        found.append((resource.code, mount.target))
                        break
            return found
    finally:
        catalog.dispose()
