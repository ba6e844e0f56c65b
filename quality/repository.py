"""All queries of the quality gate's catalogue tables; services never write SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.domain import ResourceClass, ResourceState
from catalog.models import (
    QualityDecision,
    QualityNotification,
    QualityProfile,
    QualityResult,
    QualityRule,
    Resource,
)
from quality.errors import NotFound


def profile(session: Session, resource_id: int) -> QualityProfile | None:
    return session.scalar(select(QualityProfile).where(QualityProfile.resource_id == resource_id))


def active_rules(session: Session, resource_id: int) -> Sequence[QualityRule]:
    return session.scalars(
        select(QualityRule)
        .where(QualityRule.resource_id == resource_id, QualityRule.removed_at.is_(None))
        .order_by(QualityRule.id)
    ).all()


def rule(session: Session, rule_id: int) -> QualityRule:
    found = session.get(QualityRule, rule_id)
    if found is None or found.removed_at is not None:
        raise NotFound(f"质检规则不存在 (no rule) {rule_id}")
    return found


def base_resources(session: Session) -> Sequence[Resource]:
    """Published base-library resources (基础库), the targets of reference rules."""
    return session.scalars(
        select(Resource)
        .where(
            Resource.classification == ResourceClass.BASE,
            Resource.state.in_([ResourceState.PUBLISHED, ResourceState.RETIRING]),
        )
        .options(selectinload(Resource.items), selectinload(Resource.mounts))
        .order_by(Resource.code)
    ).all()


def result_or_none(session: Session, batch_id: str) -> QualityResult | None:
    return session.scalar(select(QualityResult).where(QualityResult.batch_id == batch_id))


def result(session: Session, batch_id: str) -> QualityResult:
    found = result_or_none(session, batch_id)
    if found is None:
        raise NotFound(f"没有该批次的质检结果 (no quality result for batch) {batch_id}")
    return found


def results(
    session: Session,
    *,
    resource_id: int | None = None,
    department_id: int | None = None,
    since: datetime | None = None,
    run_kind: str | None = None,
) -> Sequence[QualityResult]:
    query = select(QualityResult).order_by(QualityResult.created_at, QualityResult.id)
    if resource_id is not None:
        query = query.where(QualityResult.resource_id == resource_id)
    if department_id is not None:
        query = query.where(QualityResult.department_id == department_id)
    if since is not None:
        query = query.where(QualityResult.created_at >= since)
    if run_kind is not None:
        query = query.where(QualityResult.run_kind == run_kind)
    return session.scalars(query).all()


def decisions(session: Session, result_id: int) -> Sequence[QualityDecision]:
    return session.scalars(
        select(QualityDecision)
        .where(QualityDecision.result_id == result_id)
        .order_by(QualityDecision.id)
    ).all()


def results_of_batches(session: Session, batch_ids: Iterable[str]) -> Sequence[QualityResult]:
    wanted = list(batch_ids)
    if not wanted:
        return []
    return session.scalars(select(QualityResult).where(QualityResult.batch_id.in_(wanted))).all()


def notifications(
    session: Session, *, department_id: int | None = None
) -> Sequence[QualityNotification]:
    query = select(QualityNotification).order_by(QualityNotification.id)
    if department_id is not None:
        query = query.where(QualityNotification.department_id == department_id)
    return session.scalars(query).all()
