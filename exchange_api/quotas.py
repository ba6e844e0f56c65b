"""Quotas counted in the catalogue database, so they hold across API workers and restarts.

A per-minute rate limit in process memory slows a client down; it does not stop a department
from asking about every person in a city over a day, nor from asking a 核验 about the same
person a thousand times. These quotas do: 核验 calls per business case and per subject per
day, and keys looked up per grant per day. Each take is one conditional UPDATE
(``used + n <= limit``), which both SQLite and PostgreSQL apply atomically, so two workers
cannot both take the last unit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from catalog.context import CHINA_TZ, CatalogContext
from catalog.models import Department, Resource, UsageAlert, UsageCounter
from catalog.store import Catalog
from exchange_api.exceptions import QuotaExceeded

UNLIMITED = 2**31 - 1


def _insert(session: Session):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert


def take(
    session: Session,
    *,
    scope: str,
    subject: str,
    period: str,
    amount: int,
    limit: int,
    now: datetime,
) -> int | None:
    """Count ``amount`` more against a quota; the new total, or None when it would exceed it."""
    insert = _insert(session)
    session.execute(
        insert(UsageCounter)
        .values(scope=scope, subject=subject, period=period, used=0, updated_at=now)
        .on_conflict_do_nothing()
    )
    key = (
        (UsageCounter.scope == scope)
        & (UsageCounter.subject == subject)
        & (UsageCounter.period == period)
    )
    taken = session.execute(
        update(UsageCounter)
        .where(key, UsageCounter.used + amount <= limit)
        .values(used=UsageCounter.used + amount, updated_at=now)
        .returning(UsageCounter.used)
    ).scalar_one_or_none()
    return taken


def _window_period(window: int) -> str:
    return f"{window:08d}"  # 8 digits until the 22nd century: text order is time order


def take_window(
    session: Session,
    *,
    scope: str,
    subject: str,
    window: int,
    amount: int,
    limit: int,
    now: datetime,
) -> int | None:
    """:func:`take` in numbered short windows (minutes); windows two back are deleted.

    Only the call whose insert opened a window deletes, so the clean-up costs one statement a
    minute per subject. The window just closed is kept: a call that read the clock just
    before the minute turned still finds its row (deleting it under that call's UPDATE
    would refuse the call for a missing row, not for the limit).
    """
    period = _window_period(window)
    insert = _insert(session)
    opened = cast(
        CursorResult[Any],
        session.execute(
            insert(UsageCounter)
            .values(scope=scope, subject=subject, period=period, used=0, updated_at=now)
            .on_conflict_do_nothing()
        ),
    ).rowcount
    if opened:
        session.execute(
            delete(UsageCounter).where(
                UsageCounter.scope == scope,
                UsageCounter.subject == subject,
                UsageCounter.period < _window_period(window - 1),
            )
        )
    return take(
        session, scope=scope, subject=subject, period=period, amount=amount, limit=limit, now=now
    )


def window_used(session: Session, *, scope: str, subject: str, window: int) -> int:
    """What :func:`take_window` has counted in ``window`` so far."""
    return used(session, scope=scope, subject=subject, period=_window_period(window))


def used(session: Session, *, scope: str, subject: str, period: str) -> int:
    found = session.scalar(
        select(UsageCounter.used).where(
            UsageCounter.scope == scope,
            UsageCounter.subject == subject,
            UsageCounter.period == period,
        )
    )
    return int(found or 0)


def alert(
    session: Session,
    *,
    provider_id: int,
    resource_id: int,
    department_code: str,
    kind: str,
    period: str,
    message: str,
    now: datetime,
) -> None:
    """Tell the provider once per consumer, resource, kind and period (repeats are dropped)."""
    insert = _insert(session)
    session.execute(
        insert(UsageAlert)
        .values(
            provider_id=provider_id,
            resource_id=resource_id,
            department_code=department_code,
            kind=kind,
            period=period,
            message=message,
            created_at=now,
        )
        .on_conflict_do_nothing()
    )


def day(now: datetime) -> str:
    """The quota day: the calendar day in China, whatever the server's zone."""
    return now.astimezone(CHINA_TZ).date().isoformat()


class Refused(QuotaExceeded):
    """A quota refusal that also tells the provider (written after the request rolls back)."""

    def __init__(self, message: str, *, alert: dict[str, Any]) -> None:
        super().__init__(message)
        self.alert = alert


@contextmanager
def alerting(catalog: Catalog) -> Iterator[None]:
    """Write the provider's alert of a refused call in its own transaction, then re-raise."""
    try:
        yield
    except Refused as refusal:
        with catalog.unit() as ctx:
            alert(ctx.session, now=ctx.now(), **refusal.alert)
        raise


def _alert_spec(
    ctx: CatalogContext, *, resource_id: int, department_code: str, kind: str, message: str
) -> dict[str, Any]:
    resource = ctx.session.get(Resource, resource_id)
    assert resource is not None
    return {
        "provider_id": resource.provider_id,
        "resource_id": resource_id,
        "department_code": department_code,
        "kind": kind,
        "period": day(ctx.now()),
        "message": message,
    }


def count_keys(
    ctx: CatalogContext, *, grant_id: int, resource_id: int, department_code: str, keys: int,
    limit: int, subject: str,
) -> None:  # fmt: skip
    """Every key looked up counts against the grant's daily cap, a batch as many as it holds."""
    period = day(ctx.now())
    if take(
        ctx.session, scope="keys", subject=subject, period=period, amount=keys, limit=limit,
        now=ctx.now(),
    ) is None:  # fmt: skip
        message = f"该授权今日查询主体数已达上限 {limit} 个 (daily key quota of the grant used up)"
        raise Refused(
            message,
            alert=_alert_spec(
                ctx, resource_id=resource_id, department_code=department_code,
                kind="lookup_quota", message=f"授权 #{grant_id} 今日查询主体数达到上限 {limit}",
            ),
        )  # fmt: skip


def count_verification(
    ctx: CatalogContext, *, resource_id: int, department_code: str, case_subject: str,
    person_subject: str, per_case: int, per_subject: int, alert_at: int,
) -> None:  # fmt: skip
    """A 核验 counts once for its case, once for its subject today, once for the day's volume.

    ``case_subject`` and ``person_subject`` are keyed hashes that include the department, so
    one department's cases never use up another's.
    """
    now, period = ctx.now(), day(ctx.now())
    session = ctx.session
    if take(session, scope="verify-case", subject=case_subject, period="all", amount=1,
            limit=per_case, now=now) is None:  # fmt: skip
        raise Refused(
            f"同一办件的核验次数已达上限 {per_case} 次 (verifications per case used up)",
            alert=_alert_spec(
                ctx, resource_id=resource_id, department_code=department_code,
                kind="verify_per_case", message=f"同一办件核验超过 {per_case} 次",
            ),
        )  # fmt: skip
    if take(session, scope="verify-subject", subject=person_subject, period=period, amount=1,
            limit=per_subject, now=now) is None:  # fmt: skip
        raise Refused(
            f"对同一主体的核验今日已达上限 {per_subject} 次 (verifications per subject used up)",
            alert=_alert_spec(
                ctx, resource_id=resource_id, department_code=department_code,
                kind="verify_per_subject", message=f"同一主体当日核验超过 {per_subject} 次",
            ),
        )  # fmt: skip
    volume = take(
        session, scope="verify-volume", subject=f"{department_code}:{resource_id}",
        period=period, amount=1, limit=UNLIMITED, now=now,
    )  # fmt: skip
    if volume is not None and volume >= alert_at:
        alert(
            session, now=now,
            **_alert_spec(
                ctx, resource_id=resource_id, department_code=department_code,
                kind="verify_volume", message=f"当日核验次数达到 {alert_at} 次，请关注是否异常",
            ),
        )  # fmt: skip


def alerts(session: Session, *, provider_code: str | None) -> list[tuple[UsageAlert, str]]:
    """A provider's alerts (every provider's when None), newest first, with resource codes."""
    query = (
        select(UsageAlert, Resource.code)
        .join(Resource, Resource.id == UsageAlert.resource_id)
        .order_by(UsageAlert.id.desc())
    )
    if provider_code is not None:
        query = query.join(Department, Department.id == UsageAlert.provider_id).where(
            Department.code == provider_code
        )
    return [(row[0], row[1]) for row in session.execute(query)]
