"""Ingest jobs as people and schedulers run them: catalogue in, lake out, catalogue updated.

A job resolves the resource's 库表 mount and its plan, finds the source files in the landing
folder (or takes the one given), runs each file as a batch and records the outcome in the
catalogue: counts, table version, status, and the mount's state and freshness.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from catalog import batches, repository
from catalog.context import CHINA_TZ, utcnow
from catalog.domain import ResourceClass, ResourceState
from catalog.mounts import table_mount
from catalog.store import Catalog
from checks.plan import IngestPlan, plan_for
from infra.settings import Settings
from jobs.lease import kept_alive
from lake.errors import PipelineError, SourceUnreadable
from pipelines.ingest import (
    BatchSummary,
    batch_id_for,
    discard_staged,
    ingest_file,
    publish_staged,
    staging_path,
)
from pipelines.references import missing_bases
from pipelines.sources import FORMATS, file_digest
from quality.gate import hold_for_missing_bases
from quality.run import conclude

if TYPE_CHECKING:
    from checks.rules import RuleSet
    from quality.gate import GateOrder


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


def _ruleset(catalog: Catalog, resource_code: str, *, today: date | None = None) -> RuleSet:
    """The resource's quality rules (generated and stewards'), read once per batch; ``today``
    is the run's date, so a re-run judges "not in the future" as the first run did."""
    from quality.service import ruleset_for

    with catalog.unit() as ctx:
        return ruleset_for(ctx, resource_code, today=today)


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


_DATE_IN_NAME = re.compile(
    r"(?<!\d)(20\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)"
)


def data_date_of(
    path: Path, *, given: date | None, logical: date | None, received: datetime
) -> date:
    """The date a batch's data describes: the CLI's ``--data-date`` when given, else a date
    in the file's name (``..._20260303.csv``, as departments name their extracts), else the
    scheduler's logical date, else the day it was received in Beijing."""
    if given is not None:
        return given
    found = _DATE_IN_NAME.search(path.stem)
    if found:
        try:
            return date(*(int(part) for part in found.groups()))
        except ValueError:
            pass
    return logical if logical is not None else received.astimezone(CHINA_TZ).date()


def ingest_one(
    settings: Settings,
    *,
    resource_code: str,
    path: Path,
    clock: Callable[[], datetime] = utcnow,
    data_date: date | None = None,
    logical_date: date | None = None,
    as_of: date | None = None,
) -> BatchSummary:
    """Run one file through one resource's mount and record it in the catalogue.

    ``as_of`` is the run's date for date rules ("not in the future"): the DAG's logical date,
    the CLI's ``--as-of``; by default the day the job runs, in Beijing. Given the same
    ``as_of``, a re-run on another day judges every row as the first run did.

    Stewards' decisions on this resource's held batches whose lake side never finished are
    carried out first, so the new batch merges on top of them.
    """
    if not path.is_file():
        raise SourceUnreadable(f"源文件不存在 (no such file): {path}")
    apply_pending_orders(settings, resource_code=resource_code, clock=clock)
    catalog = Catalog(settings, clock=clock)
    try:
        plan = _plan(catalog, resource_code)
        sha, size = file_digest(path)
        batch_id = batch_id_for(plan, sha)
        with catalog.unit() as ctx:
            batches.expire_stale(ctx)  # batches of killed jobs become 失败, this one included
            known = batches.batch_or_none(ctx, batch_id)
            # Published, or held for a steward: running the file again changes nothing. A
            # batch that only waited for a base library is run again.
            waiting = known is not None and batches.waits_for_base(known)
            if (
                known is not None
                and known.status in (batches.PUBLISHED, batches.HELD, batches.EMPTY)
                and not waiting
            ):
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
                    held=known.status == batches.HELD,
                    hold_reason=known.message if known.status == batches.HELD else "",
                    empty=known.status == batches.EMPTY,
                    warning=known.message if known.status == batches.EMPTY else "",
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
        dated = data_date_of(path, given=data_date, logical=logical_date, received=received)
        run_date = as_of or logical_date or received.astimezone(CHINA_TZ).date()
        ruleset = _ruleset(catalog, resource_code, today=run_date)
        missing = missing_bases(settings, ruleset)
        if missing:
            with catalog.unit() as ctx:
                message = hold_for_missing_bases(
                    ctx, ruleset=ruleset, batch_id=batch_id, missing=missing, notify=not waiting
                )
            return BatchSummary(
                batch_id=batch_id,
                resource_code=resource_code,
                table=plan.table,
                source_file=str(path),
                held=True,
                hold_reason=message,
                file_sha256=sha,
                file_bytes=size,
            )
        try:
            with kept_alive(catalog, batch_id=batch_id):
                summary = ingest_file(
                    settings, plan, path, received_at=received, data_date=dated, ruleset=ruleset
                )
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
        if summary.rows_read == 0:
            summary.empty, summary.warning = True, batches.EMPTY_MESSAGE
        with catalog.unit() as ctx:
            batches.finish_batch(
                ctx,
                batch_id=batch_id,
                # An empty file is not data: no quality verdict, the mount not made fresh.
                status=batches.EMPTY if summary.empty else batches.PUBLISHED,
                rows_read=summary.rows_read,
                rows_accepted=summary.rows_accepted,
                rows_quarantined=summary.rows_quarantined,
                table_version=summary.table_version,
                message=summary.warning or summary.hold_reason or _superseded_message(summary),
                details={
                    "reasons": summary.reasons,
                    "seconds": summary.seconds,
                    "data_date": dated.isoformat(),
                    "as_of": run_date.isoformat(),
                    "rows_superseded": summary.rows_superseded,
                },
            )
            if summary.empty:
                return summary
            if summary.gate is not None:
                # After finish_batch: a hold sets the batch to 暂缓入库 and notifies the provider.
                conclude(
                    ctx,
                    ruleset=ruleset,
                    batch_id=batch_id,
                    decision=summary.gate.decision,
                    counts=summary.gate.counts,
                    sample=summary.gate.sample,
                )
            if not summary.held:
                mount = repository.mount(ctx.session, plan.mount_id)
                batches.land(ctx, mount=mount, at=received)
        return summary
    finally:
        catalog.dispose()


def apply_gate_order(
    settings: Settings, order: GateOrder, *, clock: Callable[[], datetime] = utcnow
) -> int | None:
    """The lake side of a steward's decision on a held batch.

    Released: the staged passing rows are committed to validated (the failing rows stay in
    quarantine), the batch becomes 已入库 and the mount fresh. Rejected: the staged rows are
    discarded; the catalogue side already marked the batch. Safe to repeat.
    """
    from checks.gate import RELEASED

    catalog = Catalog(settings, clock=clock)
    try:
        plan = _plan(catalog, order.resource_code)
        if order.action != RELEASED:
            discard_staged(settings, plan, order.batch_id)
            return None
        published = publish_staged(settings, plan, order.batch_id)
        with catalog.unit() as ctx:
            batch = batches.batch_or_none(ctx, order.batch_id)
            if batch is not None:
                details = {**(batch.details or {}), "rows_superseded": published.superseded}
                message = "审核员放行 (released by a steward)"
                if published.superseded:
                    message += f"；{_superseded_text(published.superseded)}"
                batches.finish_batch(
                    ctx,
                    batch_id=order.batch_id,
                    status=batches.PUBLISHED,
                    rows_read=batch.rows_read,
                    rows_accepted=batch.rows_accepted,
                    rows_quarantined=batch.rows_quarantined,
                    table_version=published.version,
                    message=message,
                    details=details,
                )
            mount = repository.mount(ctx.session, plan.mount_id)
            batches.land(ctx, mount=mount, at=clock())
        return published.version
    finally:
        catalog.dispose()


def apply_pending_orders(
    settings: Settings,
    *,
    resource_code: str | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> list[tuple[GateOrder, int | None]]:
    """Carry out the stewards' decisions whose lake side did not finish (``quality apply``).

    A release recorded by the API or the CLI is committed to the lake afterwards; if that
    process died in between, the batch stays 暂缓入库 under a 已放行 decision until this runs.
    """
    from checks.gate import REJECTED
    from quality.gate import pending_orders

    catalog = Catalog(settings, clock=clock)
    try:
        with catalog.unit() as ctx:
            orders = pending_orders(ctx, resource_code=resource_code)
    finally:
        catalog.dispose()
    done: list[tuple[GateOrder, int | None]] = []
    for order in orders:
        staged = staging_path(settings, order.table, order.batch_id)
        if order.action == REJECTED and not staged.exists():
            continue  # its staged rows are already gone
        done.append((order, apply_gate_order(settings, order, clock=clock)))
    return done


def _superseded_text(rows: int) -> str:
    return (
        f"{rows} 行的数据日期早于表中已有数据，未覆盖较新记录（已留存于原始层）"
        "(older than the rows already published; kept in the raw layer)"
    )


def _superseded_message(summary: BatchSummary) -> str:
    return _superseded_text(summary.rows_superseded) if summary.rows_superseded else ""


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
                mount = table_mount(resource)
                if mount is not None:
                    found.append((resource.code, mount.target, resource.classification))
            # Base libraries (基础库) first: other resources' reference rules check against them.
            found.sort(key=lambda entry: entry[2] is not ResourceClass.BASE)
            return [(code, table) for code, table, _ in found]
    finally:
        catalog.dispose()
