"""The quality gate (质检入库): publish a batch, or hold it for a steward.

A batch whose pass rate reaches the resource's threshold (default 99%) is published: its
passing rows go to the validated table, its failing rows to quarantine. Below the threshold
the whole batch is held: nothing of it is published, the table keeps serving its previous
version, the provider department gets a notice with the reasons, and a steward releases or
rejects the batch later. Failing rows are never published either way.

The ingest job's gate step (``jobs.batch.gate_one``) calls ``checks.gate.decide`` with the
counts its stage step left, then :func:`record` in the catalogue; a steward's :func:`release`
returns the order the lake side carries out (commit the staged passing rows); :func:`reject`
closes the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from catalog import batches as catalog_batches
from catalog import repository as catalog_repository
from catalog.context import Actor, CatalogContext
from catalog.history import record as record_history
from catalog.models import QualityDecision, QualityNotification, QualityResult
from checks.gate import (
    CHECKED,
    HELD,
    LABELS,
    PUBLISHED,
    REJECTED,
    RELEASED,
    GateDecision,
)
from checks.rules import Reference, RuleSet
from quality import auth
from quality import repository as repo
from quality.errors import GateStateError


@dataclass(frozen=True)
class GateOrder:
    """What the lake side must do after a steward's decision on a held batch."""

    # RELEASED (a steward's) or PUBLISHED (the gate's, its job died before publishing):
    # commit the staged passing rows; REJECTED: discard them
    action: str
    batch_id: str
    resource_code: str
    table: str
    rows_to_publish: int
    rows_quarantined: int


def record(
    ctx: CatalogContext,
    *,
    ruleset: RuleSet,
    batch_id: str,
    decision: GateDecision,
    counts: dict[str, int],
    sample: list[dict[str, Any]],
    docs_path: str = "",
    run_kind: str = "ingest",
    actor: Actor = catalog_batches.PIPELINE,
) -> QualityResult:
    """Keep the batch's quality result; a held batch also notifies its provider.

    Safe to repeat for the same batch id (a re-run updates the one result). A stand-alone
    check (``run_kind="check"``) is recorded as ``checked`` and never holds anything.
    """
    resource = catalog_repository.resource(ctx.session, ruleset.resource_code)
    outcome = CHECKED if run_kind == "check" else (PUBLISHED if decision.publish else HELD)
    result = repo.result_or_none(ctx.session, batch_id)
    if result is None:
        result = QualityResult(batch_id=batch_id, created_at=ctx.now())
        ctx.session.add(result)
    elif result.decision in (RELEASED, REJECTED):
        raise GateStateError(
            f"批次 {batch_id} 已由审核员{LABELS[result.decision]}，不再改写质检结果 "
            "(already decided by a steward)"
        )
    result.resource_id = resource.id
    result.department_id = resource.provider_id
    result.run_kind = run_kind
    result.rows_read = decision.rows_read
    result.rows_failed = decision.rows_failed
    result.rows_passed = decision.rows_passed
    result.pass_rate = decision.pass_rate
    result.threshold = decision.threshold
    result.decision = outcome
    result.rules = {r.id: {"label": r.reason, "origin": r.origin} for r in ruleset.rules}
    result.counts = dict(counts)
    result.sample = list(sample)
    result.docs_path = docs_path
    ctx.session.flush()
    if outcome == HELD:
        _step(ctx, result, HELD, actor, decision.message)
        ctx.session.add(
            QualityNotification(
                department_id=resource.provider_id,
                resource_id=resource.id,
                batch_id=batch_id,
                kind=HELD,
                message=(
                    f"信息资源 {resource.code}「{resource.name}」的批次 {batch_id[:12]} "
                    f"{decision.message}。请核查并重新报送。"
                ),
                reasons=decision.reasons,
                created_at=ctx.now(),
            )
        )
        batch = catalog_batches.batch_or_none(ctx, batch_id)
        if batch is not None:
            batch.status = catalog_batches.HELD
            batch.message = decision.message
    elif outcome == PUBLISHED:
        _step(ctx, result, PUBLISHED, actor, decision.message)
    return result


def hold_for_missing_bases(
    ctx: CatalogContext,
    *,
    ruleset: RuleSet,
    batch_id: str,
    missing: Sequence[Reference],
    notify: bool = True,
) -> str:
    """Hold a batch whose reference rules cannot be checked: a base library has no data yet.

    Nothing of the batch is processed or published, and there is nothing for a steward to
    release: the next run (or ``govshare ingest``) processes it once the base is loaded.
    Returns the message the batch and the provider's notice carry.
    """
    bases = "、".join(f"{m.library}库「{m.resource_code}」(validated.{m.table})" for m in missing)
    message = (
        f"基础库尚未入库：{bases}，引用核验无法进行，整批暂缓入库；基础库入库后重新运行本批次 "
        "(base table not loaded: the batch waits for it)"
    )
    catalog_batches.finish_batch(
        ctx,
        batch_id=batch_id,
        status=catalog_batches.HELD,
        rows_read=0,
        rows_accepted=0,
        rows_quarantined=0,
        table_version=None,
        message=message,
        details={catalog_batches.WAITING_FOR_BASE: [m.resource_code for m in missing]},
    )
    if notify:
        resource = catalog_repository.resource(ctx.session, ruleset.resource_code)
        ctx.session.add(
            QualityNotification(
                department_id=resource.provider_id,
                resource_id=resource.id,
                batch_id=batch_id,
                kind=HELD,
                message=(
                    f"信息资源 {resource.code}「{resource.name}」的批次 {batch_id[:12]} {message}"
                ),
                reasons=[message],
                created_at=ctx.now(),
            )
        )
    return message


def _step(ctx: CatalogContext, result: QualityResult, action: str, actor: Actor, why: str) -> None:
    ctx.session.add(
        QualityDecision(
            result_id=result.id, action=action, actor=actor.name, reason=why, at=ctx.now()
        )
    )
    record_history(
        ctx,
        entity="quality_batch",
        entity_id=result.id,
        action=action,
        actor=actor,
        before=None,
        after={"batch_id": result.batch_id, "decision": action},
    )


def _held(ctx: CatalogContext, batch_id: str) -> QualityResult:
    batch = catalog_batches.batch_or_none(ctx, batch_id)
    if batch is not None and catalog_batches.waits_for_base(batch):
        raise GateStateError(
            f"批次 {batch_id} 在等待基础库入库，尚未质检，无需放行或退回；基础库入库后重新运行"
            " govshare ingest 即可 (the batch waits for a base library: run the ingest again)"
        )
    result = repo.result(ctx.session, batch_id)
    if result.decision != HELD:
        raise GateStateError(
            f"批次 {batch_id} 当前为「{LABELS.get(result.decision, result.decision)}」，"
            "只有暂缓入库的批次可以放行或退回 (only a held batch can be released or rejected)"
        )
    return result


def release(ctx: CatalogContext, *, batch_id: str, actor: Actor, reason: str = "") -> GateOrder:
    """A steward lets a held batch's passing rows through; failing rows stay in quarantine.

    Returns the order for the lake side: commit the batch's staged passing rows to the
    validated table, then mark the ingest batch published (``catalog.batches.finish_batch``).
    Releasing a batch whose release was recorded but whose lake side never finished (the
    process died) returns the same order again instead of refusing: the order is idempotent.
    """
    auth.release_batch(actor)
    unfinished = repo.result_or_none(ctx.session, batch_id)
    if unfinished is not None and _release_unfinished(ctx, unfinished):
        return _order(ctx, unfinished, RELEASED)
    result = _held(ctx, batch_id)
    result.decision = RELEASED
    result.decided_at = ctx.now()
    result.decided_by = actor.name
    _step(ctx, result, RELEASED, actor, reason or "审核员放行 (released by a steward)")
    _refresh_docs_index(ctx)
    return _order(ctx, result, RELEASED)


def reject(ctx: CatalogContext, *, batch_id: str, actor: Actor, reason: str) -> GateOrder:
    """A steward refuses a held batch: nothing of it is published; the provider is told."""
    auth.reject_batch(actor)
    result = _held(ctx, batch_id)
    result.decision = REJECTED
    result.decided_at = ctx.now()
    result.decided_by = actor.name
    why = reason or "审核员退回 (rejected by a steward)"
    _step(ctx, result, REJECTED, actor, why)
    ctx.session.add(
        QualityNotification(
            department_id=result.department_id,
            resource_id=result.resource_id,
            batch_id=batch_id,
            kind=REJECTED,
            message=f"批次 {batch_id[:12]} 已被退回，请修正后重新报送：{why}",
            reasons=[why],
            created_at=ctx.now(),
        )
    )
    batch = catalog_batches.batch_or_none(ctx, batch_id)
    if batch is not None:
        batch.status = catalog_batches.REJECTED
        batch.message = why
    _refresh_docs_index(ctx)
    return _order(ctx, result, REJECTED)


def _refresh_docs_index(ctx: CatalogContext) -> None:
    """The Data Docs index shows the steward's decision too."""
    from quality import docs_index

    docs_index.refresh(ctx)


def _release_unfinished(ctx: CatalogContext, result: QualityResult) -> bool:
    """Released by a steward, yet the ingest batch is still held: the lake side did not finish."""
    if result.decision != RELEASED:
        return False
    batch = catalog_batches.batch_or_none(ctx, result.batch_id)
    return batch is not None and batch.status == catalog_batches.HELD


def pending_orders(ctx: CatalogContext, *, resource_code: str | None = None) -> list[GateOrder]:
    """Gate decisions whose lake side has not (yet) been carried out.

    A release is pending while its ingest batch is still 暂缓入库. A batch the gate passed
    (已入库 decision) is pending when its job stopped between the decision and the publish:
    the batch is not 已入库 and no job holds it (not 处理中: a killed job's batch turns 失败
    once its lease expires, ``catalog.batches.expire_stale``), and its passing rows are still
    staged or already committed (a crash after the commit leaves only the catalogue side).
    A rejection's lake side (discarding the staged rows) is idempotent, so every rejection
    is listed and the lake side skips those with nothing staged. The next ingest of the
    resource and ``govshare quality apply`` carry them out, so a decision recorded just
    before a crash is never stuck.
    """
    resource_id = None
    if resource_code is not None:
        resource_id = catalog_repository.resource(ctx.session, resource_code).id
    orders = []
    for result in repo.results(ctx.session, resource_id=resource_id, run_kind="ingest"):
        if _release_unfinished(ctx, result):
            orders.append(_order(ctx, result, RELEASED))
        elif result.decision == REJECTED:
            orders.append(_order(ctx, result, REJECTED))
        elif result.decision == PUBLISHED and _publish_unfinished(ctx, result):
            orders.append(_order(ctx, result, PUBLISHED))
    return orders


def _publish_unfinished(ctx: CatalogContext, result: QualityResult) -> bool:
    """Passed by the gate, yet not 已入库 and no job at it, with its rows ready to publish."""
    batch = catalog_batches.batch_or_none(ctx, result.batch_id)
    if batch is None or batch.status in (catalog_batches.PUBLISHED, catalog_batches.RUNNING):
        return False
    if batch.status != catalog_batches.FAILED:
        return False  # 已拒收, 空批次, 暂缓入库: settled otherwise since the decision
    from lake import delta
    from lake.staging import staged_rows
    from quality.service import table_of

    table, _keys = table_of(result.resource)
    if result.rows_passed == 0 or staged_rows(ctx.settings, table, result.batch_id):
        return True
    validated = delta.TableRef(ctx.settings.lake_path, "validated", table)
    return delta.committed_batch(validated, result.batch_id) is not None


def _order(ctx: CatalogContext, result: QualityResult, action: str) -> GateOrder:
    from quality.service import table_of

    table, _keys = table_of(result.resource)
    return GateOrder(
        action=action,
        batch_id=result.batch_id,
        resource_code=result.resource.code,
        table=table,
        rows_to_publish=0 if action == REJECTED else result.rows_passed,
        rows_quarantined=result.rows_read if action == REJECTED else result.rows_failed,
    )
