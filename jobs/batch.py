"""Ingest jobs as people and schedulers run them: catalogue in, lake out, catalogue updated.

One batch is three steps with an explicit hand-over, read top to bottom here:

1. ``stage_one``: the file is classified, raw and quarantine committed, the passing rows
   staged; the batch (处理中) carries the counts and masked sample the gate needs.
2. ``gate_one``: ``checks.gate.decide`` on those counts, recorded by ``quality``
   (已入库 → publish; 暂缓入库 → the rows wait for a steward).
3. ``publish_one``: the staged rows committed to validated, the batch 已入库 with its
   version, the mount fresh.

``ingest_one`` runs the three in one process (CLI, tests); the DAG runs them as its
``ingest_raw``, ``quality_gate`` and ``publish_validated`` tasks. A job killed between a
recorded decision and its publish is completed by ``apply_pending_orders``.
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
from jobs.sharing import refresh_after_commit
from lake import delta
from lake.errors import PipelineError, SourceUnreadable
from lake.staging import staging_path
from pipelines.ingest import (
    BatchSummary,
    Published,
    batch_id_for,
    discard_staged,
    ingest_file,
    publish_staged,
    tables,
)
from pipelines.references import missing_bases
from pipelines.sources import FORMATS, file_digest
from quality.errors import GateStateError
from quality.gate import hold_for_missing_bases
from quality.run import conclude

if TYPE_CHECKING:
    from catalog.context import CatalogContext
    from checks.gate import GateDecision
    from checks.rules import RuleSet
    from quality.gate import GateOrder

PUBLISHED_DECISION = "published"  # checks.gate.PUBLISHED, as a batch summary reports it
HELD_DECISION = "held"


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


def _ruleset(catalog: Catalog, resource_code: str, *, today: date) -> RuleSet:
    """The resource's quality rules (generated and stewards'), read once per batch; ``today``
    is the run's date, so a re-run judges "not in the future" as the first run did."""
    with catalog.unit() as ctx:
        return _ruleset_in(ctx, resource_code, today=today)


def _ruleset_in(ctx: CatalogContext, resource_code: str, *, today: date) -> RuleSet:
    from quality.service import ruleset_for

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


def stage_one(
    settings: Settings,
    *,
    resource_code: str,
    path: Path,
    as_of: date,
    clock: Callable[[], datetime] = utcnow,
    data_date: date | None = None,
    logical_date: date | None = None,
) -> BatchSummary:
    """Stage: classify the file, commit raw and quarantine, leave the passing rows staged.

    The batch stays 处理中 in the catalogue with its counts and what the gate needs
    (``catalog.batches.hand_over``); nothing is decided or published here. A file already
    settled (published, held, empty) is skipped; a refused file is 已拒收 and raises. Stewards'
    decisions on this resource whose lake side never finished are carried out first, so the
    new batch merges on top of them.
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
        # Without a date of its own the batch describes the run's date: a re-run of an old
        # day's run (``--as-of``) dates its rows as that run did.
        dated = data_date_of(
            path, given=data_date, logical=logical_date or as_of, received=received
        )
        ruleset = _ruleset(catalog, resource_code, today=as_of)
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
                    settings,
                    plan,
                    path,
                    received_at=received,
                    as_of=as_of,
                    data_date=dated,
                    ruleset=ruleset,
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
        dates = {"data_date": dated.isoformat(), "as_of": as_of.isoformat()}
        if summary.rows_read == 0:
            # An empty file is not data: no quality verdict, the mount not made fresh.
            summary.empty, summary.warning = True, batches.EMPTY_MESSAGE
            summary.table_version = delta.version(tables(settings, plan.table)["validated"])
            with catalog.unit() as ctx:
                batches.finish_batch(
                    ctx,
                    batch_id=batch_id,
                    status=batches.EMPTY,
                    rows_read=0,
                    rows_accepted=0,
                    rows_quarantined=0,
                    table_version=summary.table_version,
                    message=summary.warning,
                    details={"reasons": {}, "seconds": summary.seconds, **dates},
                )
            return summary
        with catalog.unit() as ctx:
            batches.hand_over(
                ctx,
                batch_id=batch_id,
                rows_read=summary.rows_read,
                rows_accepted=summary.rows_accepted,
                rows_quarantined=summary.rows_quarantined,
                stage={
                    "reasons": summary.reasons,
                    "counts": summary.counts,
                    "sample": summary.sample,
                    "seconds": summary.seconds,
                    "received_at": received.isoformat(),
                    "engine": summary.engine,
                    "raw_version": summary.raw_version,
                    "quarantine_version": summary.quarantine_version,
                    **dates,
                },
            )
        return summary
    finally:
        catalog.dispose()


def gate_one(
    settings: Settings, *, batch_id: str, clock: Callable[[], datetime] = utcnow
) -> GateDecision | None:
    """Gate: decide on a staged batch (``checks.gate.decide``) and record the verdict.

    Reads the counts the stage step left on the batch; records the quality result and Data
    Docs (``quality.run.conclude``). Below the threshold the batch becomes 暂缓入库 and its
    provider is told; at or above it the batch stays 处理中, claimed (a fresh lease) for the
    publish step. A batch already settled is not judged again (None: its status says what
    became of it).
    """
    from checks import gate

    catalog = Catalog(settings, clock=clock)
    try:
        with catalog.unit() as ctx:
            batches.expire_stale(ctx)
            batch = batches.batch_or_none(ctx, batch_id)
            if batch is not None and batch.status not in (batches.RUNNING, batches.FAILED):
                return None  # settled already (held, published, rejected, empty)
            stage = (batch.details or {}).get(batches.STAGE) if batch is not None else None
            if batch is None or stage is None:
                raise GateStateError(
                    f"批次 {batch_id} 尚未暂存，无法质检 (the batch is not staged)"
                )
            ruleset = _ruleset_in(
                ctx, batch.resource.code, today=date.fromisoformat(stage["as_of"])
            )
            counts = dict(stage["counts"])
            decision = gate.decide(
                rows_read=batch.rows_read,
                rows_failed=batch.rows_quarantined,
                threshold=ruleset.threshold,
                reasons=gate.reasons(ruleset, counts, rows_read=batch.rows_read),
            )
            conclude(
                ctx,
                ruleset=ruleset,
                batch_id=batch_id,
                decision=decision,
                counts=counts,
                sample=list(stage["sample"]),
            )
            if decision.publish:
                batch.status, batch.message = batches.RUNNING, ""
                batch.lease_until = batches.lease_end(ctx)
            else:
                batch.finished_at = ctx.now()  # record() made it 暂缓入库 and told the provider
        return decision
    finally:
        catalog.dispose()


def publish_one(
    settings: Settings, *, batch_id: str, clock: Callable[[], datetime] = utcnow
) -> Published:
    """Publish: commit a batch's staged rows to validated, then finish it in the catalogue.

    For a batch the gate passed or a steward released. The batch becomes 已入库 with the
    table version, and its mount 已挂接 and as fresh as the batch. Safe to repeat: a batch
    already committed is not committed again (``publish_staged``), one already 已入库 is
    left as it is.
    """
    from checks.gate import RELEASED
    from quality import repository as quality_repo

    catalog = Catalog(settings, clock=clock)
    try:
        with catalog.unit() as ctx:
            batch = batches.batch_or_none(ctx, batch_id)
            if batch is None:
                raise GateStateError(f"批次不存在 (no batch) {batch_id}")
            if batch.status == batches.PUBLISHED:
                return Published(batch.table_version, batch.details.get("rows_superseded", 0))
            code = batch.resource.code
            recorded = quality_repo.result_or_none(ctx.session, batch_id)
            released = recorded is not None and recorded.decision == RELEASED
        plan = _plan(catalog, code)
        with kept_alive(catalog, batch_id=batch_id):  # a long Spark merge is not a dead job
            published = publish_staged(settings, plan, batch_id)
        version = published.version
        if version is None:  # nothing passed: the table is as it was
            version = delta.version(tables(settings, plan.table)["validated"])
        with catalog.unit() as ctx:
            batch = batches.batch_or_none(ctx, batch_id)
            assert batch is not None
            previous = dict(batch.details or {})
            stage = previous.pop(batches.STAGE, None) or {}
            details = {
                **previous,
                **{k: stage[k] for k in _KEPT if k in stage},
                "rows_superseded": published.superseded,
            }
            message = "审核员放行 (released by a steward)" if released else ""
            if published.superseded:
                text = _superseded_text(published.superseded)
                message = f"{message}；{text}" if message else text
            batches.finish_batch(
                ctx,
                batch_id=batch_id,
                status=batches.PUBLISHED,
                rows_read=batch.rows_read,
                rows_accepted=batch.rows_accepted,
                rows_quarantined=batch.rows_quarantined,
                table_version=version,
                message=message,
                details=details,
            )
            received = stage.get("received_at")
            landed = datetime.fromisoformat(received) if received and not released else ctx.now()
            mount = repository.mount(ctx.session, plan.mount_id)
            batches.land(ctx, mount=mount, at=landed)
        if published.version is not None:  # a new version: Delta Sharing's grants follow it
            now = clock()
            refresh_after_commit(
                settings, table=tables(settings, plan.table)["validated"],
                today=now.astimezone(CHINA_TZ).date(), now=now,
            )  # fmt: skip
        return Published(version, published.superseded)
    finally:
        catalog.dispose()


# What a published batch's details keep of its stage hand-over (the sample is in its result).
_KEPT = ("reasons", "seconds", "data_date", "as_of")


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
    """One file through one resource's mount, stage → gate → publish, in this process.

    ``as_of`` is the run's date for date rules ("not in the future"): the DAG's logical date,
    the CLI's ``--as-of``; by default the day the job starts, in Beijing, decided here once.
    Given the same ``as_of``, a re-run on another day judges every row as the first run did.
    The DAG runs the same three steps as separate tasks (``dags.tasks``).
    """
    run_date = as_of or logical_date or clock().astimezone(CHINA_TZ).date()
    summary = stage_one(
        settings,
        resource_code=resource_code,
        path=path,
        as_of=run_date,
        clock=clock,
        data_date=data_date,
        logical_date=logical_date,
    )
    if summary.skipped or summary.empty or summary.held:
        return summary
    decision = gate_one(settings, batch_id=summary.batch_id, clock=clock)
    assert decision is not None  # staged just now by this job
    summary.decision = PUBLISHED_DECISION if decision.publish else HELD_DECISION
    if not decision.publish:
        summary.held, summary.hold_reason = True, decision.message
        summary.table_version = delta.version(tables(settings, summary.table)["validated"])
        return summary
    published = publish_one(settings, batch_id=summary.batch_id, clock=clock)
    summary.table_version = published.version
    summary.rows_superseded = published.superseded
    return summary


def apply_gate_order(
    settings: Settings, order: GateOrder, *, clock: Callable[[], datetime] = utcnow
) -> int | None:
    """The lake side of a gate decision whose publish did not happen yet.

    Released by a steward, or passed by the gate in a job that stopped before publishing:
    the staged passing rows are committed to validated (the failing rows stay in
    quarantine), the batch becomes 已入库 and the mount fresh. Rejected: the staged rows are
    discarded; the catalogue side already marked the batch. Safe to repeat.
    """
    from checks.gate import REJECTED

    if order.action == REJECTED:
        catalog = Catalog(settings, clock=clock)
        try:
            discard_staged(settings, _plan(catalog, order.resource_code), order.batch_id)
        finally:
            catalog.dispose()
        return None
    return publish_one(settings, batch_id=order.batch_id, clock=clock).version


def apply_pending_orders(
    settings: Settings,
    *,
    resource_code: str | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> list[tuple[GateOrder, int | None]]:
    """Carry out the gate decisions whose lake side did not finish (``quality apply``).

    A release recorded by the API or the CLI is committed to the lake afterwards; a batch the
    gate passed is published by the job right after. If that process died in between, the
    batch stays 暂缓入库 (or 失败 once its job's lease expired) under a 已放行 (已入库)
    decision until this runs.
    """
    from checks.gate import REJECTED
    from quality.gate import pending_orders

    catalog = Catalog(settings, clock=clock)
    try:
        with catalog.unit() as ctx:
            batches.expire_stale(ctx)
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
