"""Ingest batches as the catalogue keeps them, and what landing data does to a mount."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from catalog import repository
from catalog.context import Actor, CatalogContext
from catalog.domain import MountKind, MountState
from catalog.errors import NotFound
from catalog.history import record
from catalog.models import IngestBatch, Mount, Resource
from catalog.mounts import table_mount
from catalog.workflow import MOUNT_FLOW, MountAction

RUNNING = "处理中"
PUBLISHED = "已入库"
REJECTED = "已拒收"
FAILED = "失败"
# Below the resource's pass-rate threshold: nothing published until a steward releases it.
HELD = "暂缓入库"
# The file had no data rows (a header only): nothing published, the mount not made fresh.
EMPTY = "空批次"
EMPTY_MESSAGE = "空批次：文件只有表头，没有数据行，未入库 (empty batch: no data rows)"

PIPELINE = Actor.steward("pipeline")
# In a held batch's details: the base libraries (resource codes) it waits for. Such a batch
# was not processed at all; the next run processes it once the bases are loaded.
WAITING_FOR_BASE = "waiting_for_base"
# In a staged batch's details: counts per rule, masked sample, dates; the gate reads them.
STAGE = "stage"


def waits_for_base(batch: IngestBatch) -> bool:
    """Held only because a base library it refers to had no data yet: run it again."""
    return batch.status == HELD and bool((batch.details or {}).get(WAITING_FOR_BASE))


INTERRUPTED = "作业中断（租约过期）(job interrupted: its lease expired)"


def lease_end(ctx: CatalogContext) -> datetime:
    return ctx.now() + timedelta(seconds=ctx.settings.batch_lease_seconds)


def renew_lease(ctx: CatalogContext, *, batch_id: str) -> bool:
    """The running job is alive: push its lease forward. False once the batch is not running."""
    batch = batch_or_none(ctx, batch_id)
    if batch is None or batch.status != RUNNING:
        return False
    batch.lease_until = lease_end(ctx)
    return True


def expire_stale(ctx: CatalogContext) -> list[str]:
    """Mark 失败 every 处理中 batch whose job stopped renewing its lease (killed, lost host).

    Without this a killed ingest stayed 处理中 until someone ran the same file again. Rows
    from before leases existed count from their start.
    """
    now = ctx.now()
    lease = timedelta(seconds=ctx.settings.batch_lease_seconds)
    stale = ctx.session.scalars(
        select(IngestBatch).where(
            IngestBatch.status == RUNNING,
            or_(
                IngestBatch.lease_until < now,
                and_(IngestBatch.lease_until.is_(None), IngestBatch.started_at < now - lease),
            ),
        )
    ).all()
    for batch in stale:
        batch.status = FAILED
        batch.finished_at = now
        batch.message = INTERRUPTED
        batch.details = {
            **(batch.details or {}),
            "error": "LEASE_EXPIRED",
            "lease_until": batch.lease_until.isoformat() if batch.lease_until else None,
        }
    if stale:
        ctx.session.flush()
    return [b.batch_id for b in stale]


def batch_or_none(ctx: CatalogContext, batch_id: str) -> IngestBatch | None:
    return ctx.session.scalar(select(IngestBatch).where(IngestBatch.batch_id == batch_id))


def batches(ctx: CatalogContext, *, resource_code: str | None = None) -> Sequence[IngestBatch]:
    """The batches, oldest first; interrupted jobs' batches are marked 失败 first."""
    expire_stale(ctx)
    query = select(IngestBatch).order_by(IngestBatch.id)
    if resource_code:
        query = query.where(
            IngestBatch.resource_id == repository.resource(ctx.session, resource_code).id
        )
    return ctx.session.scalars(query).all()


def ensure_table_mount(ctx: CatalogContext, resource: Resource) -> Mount:
    """The resource's 库表 mount; one is registered (未挂接) if the provider has none yet."""
    found = table_mount(resource)
    if found is not None:
        return found
    now = ctx.now()
    mount = Mount(
        resource=resource,
        kind=MountKind.TABLE,
        # A plain table name (catalog.safeguards): codes may carry "." or "-", names may not.
        target="r_" + re.sub(r"[^a-z0-9_]", "_", resource.code.lower()),
        config={},
        state=MountState.UNMOUNTED,
        state_changed_at=now,
        created_at=now,
    )
    ctx.session.add(mount)
    ctx.session.flush()
    return mount


def start_batch(
    ctx: CatalogContext,
    *,
    batch_id: str,
    resource: Resource,
    mount: Mount,
    source_file: str,
    file_sha256: str,
    file_bytes: int,
) -> IngestBatch:
    existing = batch_or_none(ctx, batch_id)
    if existing is not None:
        existing.status = RUNNING
        existing.started_at = ctx.now()
        existing.lease_until = lease_end(ctx)
        return existing
    batch = IngestBatch(
        batch_id=batch_id,
        resource=resource,
        mount=mount,
        source_file=source_file,
        file_sha256=file_sha256,
        file_bytes=file_bytes,
        status=RUNNING,
        started_at=ctx.now(),
        lease_until=lease_end(ctx),
        details={},
    )
    ctx.session.add(batch)
    ctx.session.flush()
    return batch


def finish_batch(
    ctx: CatalogContext,
    *,
    batch_id: str,
    status: str,
    rows_read: int,
    rows_accepted: int,
    rows_quarantined: int,
    table_version: int | None,
    message: str = "",
    details: dict[str, Any] | None = None,
) -> IngestBatch:
    batch = batch_or_none(ctx, batch_id)
    if batch is None:
        raise NotFound(f"批次不存在 (no batch) {batch_id}")
    if rows_read != rows_accepted + rows_quarantined:
        raise ValueError("batch counts do not add up")
    batch.status = status
    batch.finished_at = ctx.now()
    batch.rows_read, batch.rows_accepted = rows_read, rows_accepted
    batch.rows_quarantined = rows_quarantined
    batch.table_version = table_version
    batch.message = message
    batch.details = details or {}
    return batch


def hand_over(
    ctx: CatalogContext,
    *,
    batch_id: str,
    rows_read: int,
    rows_accepted: int,
    rows_quarantined: int,
    stage: dict[str, Any],
) -> IngestBatch:
    """A staged batch's counts and what the gate needs (``details[STAGE]``), kept on the batch.

    The batch stays 处理中 with a fresh lease: the gate and the publish step follow, in this
    process or in the DAG's next tasks, and read the batch from here.
    """
    batch = batch_or_none(ctx, batch_id)
    if batch is None:
        raise NotFound(f"批次不存在 (no batch) {batch_id}")
    if rows_read != rows_accepted + rows_quarantined:
        raise ValueError("batch counts do not add up")
    batch.rows_read, batch.rows_accepted = rows_read, rows_accepted
    batch.rows_quarantined = rows_quarantined
    batch.details = {**(batch.details or {}), STAGE: stage}
    batch.lease_until = lease_end(ctx)
    return batch


def land(ctx: CatalogContext, *, mount: Mount, at: datetime) -> Mount:
    """Data arrived through the mount: it is usable (已挂接) and as fresh as this batch."""
    if mount.state in (MountState.UNMOUNTED, MountState.PENDING):
        before = {"state": str(mount.state)}
        mount.state = MOUNT_FLOW.next_state(mount.state, MountAction.LAND, ref=f"#{mount.id}")
        mount.state_changed_at = ctx.now()
        record(
            ctx,
            entity="mount",
            entity_id=mount.id,
            action=str(MountAction.LAND),
            actor=PIPELINE,
            before=before,
            after={"state": str(mount.state)},
        )
        from catalog.demands import reroute_waiting

        reroute_waiting(ctx, provider_id=mount.resource.provider_id, actor=PIPELINE)
    if mount.last_refreshed_at is None or at > mount.last_refreshed_at:
        mount.last_refreshed_at = at
    return mount
