"""授权 (grants): listing them and taking them back.

A grant is made when a demand is answered (``catalog.demands.create_grant``). Taking one back
is the provider's or the data authority's decision, with a reason that stays in the grant's
history. The exchange checks grants on every data call without caching, so a revoked grant
stops the very next call (``exchange_api.access.authorise_data_call``).
"""

from __future__ import annotations

from typing import Any

from catalog import auth, repository
from catalog.context import Actor, CatalogContext
from catalog.errors import Conflict, ValidationError
from catalog.history import record
from catalog.models import Grant, HistoryEntry


def _summary(grant: Grant) -> dict[str, Any]:
    return {
        "department": grant.department.code,
        "resource": grant.resource.code,
        "purpose": grant.purpose,
        "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
        "reason": grant.revoke_reason or None,
    }


def revoke_grant(ctx: CatalogContext, *, grant_id: int, reason: str, actor: Actor) -> Grant:
    """Revoke a grant at once; the reason is required and recorded."""
    grant = repository.grant(ctx.session, grant_id)
    auth.revoke_grant(actor, grant)
    reason = reason.strip()
    if not reason:
        raise ValidationError("撤销授权必须说明理由 (a reason is required)")
    if grant.revoked_at is not None:
        raise Conflict(f"授权 {grant_id} 已撤销 (the grant is already revoked)")
    before = _summary(grant)
    grant.revoked_at = ctx.now()
    grant.revoke_reason = reason
    record(
        ctx,
        entity="grant",
        entity_id=grant.id,
        action="撤销授权",
        actor=actor,
        before=before,
        after=_summary(grant),
    )
    return grant


def list_grants(ctx: CatalogContext, *, actor: Actor) -> list[Grant]:
    """Stewards see every grant; a department those it holds or gives."""
    department_id = None
    if not actor.is_steward:
        department_id = repository.department(ctx.session, actor.department_code or "").id
    return list(repository.grants_of(ctx.session, department_id=department_id))


def grant_history(ctx: CatalogContext, *, grant_id: int, actor: Actor) -> list[HistoryEntry]:
    """A grant's history, for the parties to it and stewards."""
    grant = repository.grant(ctx.session, grant_id)
    auth.view_grant(actor, grant)
    return list(repository.history(ctx.session, entity="grant", entity_id=grant.id))
