"""Authorisation of data calls against grants (授权), and the per-grant rate limit.

Deny by default: a call proceeds only with a grant of the caller's department on the
resource that is not revoked, not expired, made for the purpose the caller declares and
covering every field the call touches. A refusal says which of these is missing, in that
order, and nothing about the data.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from catalog.context import Actor, CatalogContext
from catalog.domain import ResourceState, ShareType
from catalog.models import Department, Grant
from exchange_api import quotas
from exchange_api.exceptions import (
    FieldNotGranted,
    GrantExpired,
    GrantRevoked,
    NoGrant,
    PurposeMismatch,
    RateLimited,
    ShareTypeRefused,
)
from infra.errors import ValidationError

if TYPE_CHECKING:
    from exchange_api.views import ResourceView

SERVED_STATES = (ResourceState.PUBLISHED, ResourceState.RETIRING)


def normalise_purpose(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def authorise_data_call(
    ctx: CatalogContext,
    *,
    actor: Actor,
    resource: ResourceView,
    purpose: str,
    fields: Sequence[str],
) -> Grant:
    """The grant that allows ``actor`` to use ``fields`` of ``resource`` for ``purpose``."""
    if resource.state not in SERVED_STATES:
        raise NoGrant("无有效授权：该信息资源未发布或已下线 (resource not published)")
    if resource.share_type is ShareType.NOT_SHARED:
        raise ShareTypeRefused("该信息资源不予共享 (resource is not shared)")
    if not actor.department_code:
        raise NoGrant("无有效授权：调用方不是已登记部门 (caller is not a registered department)")
    grants = ctx.session.scalars(
        select(Grant)
        .join(Department, Grant.department_id == Department.id)
        .where(Department.code == actor.department_code, Grant.resource_id == resource.resource_id)
    ).all()
    if not grants:
        raise NoGrant("无有效授权：本部门没有该信息资源的共享授权 (no grant for this resource)")
    live = [g for g in grants if g.revoked_at is None]
    if not live:
        raise GrantRevoked("授权已撤销 (the grant was revoked)")
    now = ctx.now()
    current = [g for g in live if g.expires_at > now]
    if not current:
        raise GrantExpired("授权已过期，请重新提出共享需求 (the grant has expired)")
    declared = normalise_purpose(purpose)
    matching = [g for g in current if normalise_purpose(g.purpose) == declared]
    if not matching:
        raise PurposeMismatch(
            "用途不符：声明的用途与授权用途不一致 (declared purpose does not match the grant)"
        )
    best = min(matching, key=lambda g: len(set(fields) - set(g.fields)))
    missing = [f for f in fields if f not in best.fields]
    if missing:
        raise FieldNotGranted(
            f"字段未授权：{'、'.join(missing)} (fields not granted)",
            details=[{"field": name, "reason": "not granted"} for name in missing],
        )
    return best


class RateLimiter:
    """Requests per minute per grant, in fixed one-minute windows of the app's clock.

    Counted in the catalogue database (``usage_counters``, one row per grant and minute), so
    the limit holds for the deployment, not for each API worker's share of the traffic: the
    take is the quotas' conditional UPDATE, atomic on SQLite and PostgreSQL. The row of a new
    minute clears the grant's rows older than the minute before, so each grant keeps two.
    """

    SCOPE = "rate-minute"

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock

    def hit(self, ctx: CatalogContext, grant: Grant, *, cost: int = 1) -> None:
        """Count ``cost`` units (the keys a call looks up: a batch is as many as it holds)."""
        if cost > grant.rate_limit_per_minute:
            raise ValidationError(
                f"一次查询的主体数超过该授权每分钟限额 {grant.rate_limit_per_minute} 个 "
                "(more keys than the grant allows a minute)",
                details=[{"field": "keys", "reason": "more than the per-minute limit"}],
            )
        now = self.clock()
        seconds = now.timestamp()
        subject = f"grant:{grant.id}"
        taken = quotas.take_window(
            ctx.session, scope=self.SCOPE, subject=subject, window=int(seconds // 60), amount=cost,
            limit=grant.rate_limit_per_minute, now=now,
        )  # fmt: skip
        if taken is None:
            retry = max(1, 60 - int(seconds % 60))
            raise RateLimited(
                f"调用过于频繁：该授权每分钟最多 {grant.rate_limit_per_minute} 次，"
                f"请 {retry} 秒后重试 (rate limit exceeded)",
                retry_after=retry,
            )
