"""All catalogue queries live here; services ask for domain objects and never write SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from catalog.domain import DemandState, MountState, ResourceClass, ResourceState, ShareType
from catalog.errors import NotFound
from catalog.models import (
    ApiKey,
    Counter,
    DataItem,
    Demand,
    Department,
    Duty,
    Grant,
    HistoryEntry,
    HolidayNotice,
    IngestBatch,
    Mount,
    Resource,
    ResourceVersion,
    Theme,
    VerificationSubject,
)

_RESOURCE_LOAD = (
    selectinload(Resource.items),
    selectinload(Resource.mounts),
    selectinload(Resource.provider),
    selectinload(Resource.duty),
)


def department(session: Session, code: str) -> Department:
    found = session.scalar(select(Department).where(Department.code == code))
    if found is None:
        raise NotFound(f"部门不存在 (no department) {code}")
    return found


def department_or_none(session: Session, code: str) -> Department | None:
    return session.scalar(select(Department).where(Department.code == code))


def departments(session: Session) -> Sequence[Department]:
    return session.scalars(select(Department).order_by(Department.code)).all()


def duty(session: Session, code: str) -> Duty:
    found = session.scalar(select(Duty).where(Duty.code == code))
    if found is None:
        raise NotFound(f"职责不存在 (no duty) {code}")
    return found


def duty_or_none(session: Session, code: str) -> Duty | None:
    return session.scalar(select(Duty).where(Duty.code == code))


def duties(session: Session, *, department_id: int | None = None) -> Sequence[Duty]:
    query = select(Duty).options(selectinload(Duty.department)).order_by(Duty.code)
    if department_id is not None:
        query = query.where(Duty.department_id == department_id)
    return session.scalars(query).all()


def resource(session: Session, code: str) -> Resource:
    found = resource_or_none(session, code)
    if found is None:
        raise NotFound(f"信息资源不存在 (no resource) {code}")
    return found


def resource_or_none(session: Session, code: str) -> Resource | None:
    return session.scalar(select(Resource).options(*_RESOURCE_LOAD).where(Resource.code == code))


def resources(
    session: Session,
    *,
    ids: Iterable[int] | None = None,
    provider_id: int | None = None,
    classification: ResourceClass | None = None,
    share_type: ShareType | None = None,
    states: Iterable[ResourceState] | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> Sequence[Resource]:
    query = select(Resource).options(*_RESOURCE_LOAD).order_by(Resource.code)
    if ids is not None:
        query = query.where(Resource.id.in_(list(ids)))
    if provider_id is not None:
        query = query.where(Resource.provider_id == provider_id)
    if classification is not None:
        query = query.where(Resource.classification == classification)
    if share_type is not None:
        query = query.where(Resource.share_type == share_type)
    if states is not None:
        query = query.where(Resource.state.in_(list(states)))
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


def count_resources(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Resource)) or 0


def codes_with_prefix(session: Session, prefix: str) -> Sequence[str]:
    return session.scalars(select(Resource.code).where(Resource.code.startswith(prefix))).all()


def resources_with_items(
    session: Session, *, provider_id: int, item_names: Iterable[str]
) -> Sequence[Resource]:
    """Resources of a provider holding every one of ``item_names``."""
    names = sorted(set(item_names))
    query = (
        select(Resource)
        .options(*_RESOURCE_LOAD)
        .join(DataItem)
        .where(Resource.provider_id == provider_id, DataItem.name.in_(names))
        .group_by(Resource.id)
        .having(func.count(func.distinct(DataItem.name)) == len(names))
        .order_by(Resource.code)
    )
    return session.scalars(query).all()


def authoritative_items(session: Session) -> Sequence[tuple[str, Resource]]:
    """(item name, resource) for every data item flagged as the authoritative source."""
    rows = session.execute(
        select(DataItem.name, Resource)
        .join(Resource, DataItem.resource_id == Resource.id)
        .options(selectinload(Resource.provider))
        .where(DataItem.authoritative.is_(True), Resource.state != ResourceState.RETIRED)
        .order_by(DataItem.name, Resource.code)
    ).all()
    return [(name, res) for name, res in rows]


def versions(session: Session, resource_id: int) -> Sequence[ResourceVersion]:
    return session.scalars(
        select(ResourceVersion)
        .where(ResourceVersion.resource_id == resource_id)
        .order_by(ResourceVersion.version)
    ).all()


def mount(session: Session, mount_id: int) -> Mount:
    found = session.get(Mount, mount_id)
    if found is None:
        raise NotFound(f"挂接不存在 (no mount) {mount_id}")
    return found


def mounts(session: Session, *, states: Iterable[MountState] | None = None) -> Sequence[Mount]:
    query = select(Mount).options(selectinload(Mount.resource)).order_by(Mount.id)
    if states is not None:
        query = query.where(Mount.state.in_(list(states)))
    return session.scalars(query).all()


def table_claimants(session: Session, *, target: str) -> Sequence[int]:
    """Departments whose resources mount (or asked to mount) the lake table ``target``."""
    query = (
        select(Resource.provider_id)
        .join(Mount, Mount.resource_id == Resource.id)
        .where((Mount.target == target) | (Mount.pending_target == target))
        .distinct()
    )
    return session.scalars(query).all()


def demand(session: Session, code: str) -> Demand:
    found = session.scalar(select(Demand).where(Demand.code == code))
    if found is None:
        raise NotFound(f"共享需求不存在 (no demand) {code}")
    return found


def demands(
    session: Session,
    *,
    department_id: int | None = None,
    states: Iterable[DemandState] | None = None,
) -> Sequence[Demand]:
    """Demands, optionally only those a department made or must answer."""
    query = select(Demand).options(
        selectinload(Demand.requester),
        selectinload(Demand.provider),
        selectinload(Demand.resource),
        selectinload(Demand.grant),
    )
    if department_id is not None:
        query = query.where(
            (Demand.requester_id == department_id) | (Demand.provider_id == department_id)
        )
    if states is not None:
        query = query.where(Demand.state.in_(list(states)))
    return session.scalars(query.order_by(Demand.code)).all()


def last_demand_code(session: Session, *, prefix: str) -> str | None:
    return session.scalar(select(func.max(Demand.code)).where(Demand.code.startswith(prefix)))


def next_number(session: Session, *, name: str, first: int, count: int = 1) -> int:
    """Take the next value of a counter (``first`` when it does not exist yet).

    One ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: the row stays locked until the
    transaction ends (a row lock on PostgreSQL, the write lock on SQLite), so concurrent
    callers queue and each gets its own value; two first calls cannot both insert.
    ``count`` values are taken at once (an audit group commit); the first of them is returned.
    """
    dialect = session.get_bind().dialect.name
    # Imported here: the PostgreSQL dialect module costs ~0.1 s that read-only commands skip.
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Counter)
        .values(name=name, value=first + count - 1)
        .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + count})
        .returning(Counter.value)
    )
    return int(session.execute(statement).scalar_one()) - count + 1


def grants(
    session: Session, *, department_id: int | None = None, active_at: datetime | None = None
) -> Sequence[Grant]:
    query = select(Grant).options(selectinload(Grant.department), selectinload(Grant.resource))
    if department_id is not None:
        query = query.where(Grant.department_id == department_id)
    if active_at is not None:
        query = query.where(Grant.revoked_at.is_(None), Grant.expires_at > active_at)
    return session.scalars(query.order_by(Grant.id)).all()


def grant(session: Session, grant_id: int) -> Grant:
    found = session.get(Grant, grant_id)
    if found is None:
        raise NotFound(f"授权不存在 (no grant) {grant_id}")
    return found


@dataclass(frozen=True)
class GrantStanding:
    """What a signed file download checks and logs of its grant, read in one query."""

    id: int
    purpose: str
    department_code: str
    resource_code: str
    provider_code: str
    revoked_at: datetime | None
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


_HOLDER, _PROVIDER = aliased(Department), aliased(Department)
# Built once: a download asks on every HTTP request, and building the statement costs more
# than running it (SQLAlchemy then finds its compiled form in the cache).
_GRANT_STANDING = (
    select(
        Grant.id,
        Grant.purpose,
        _HOLDER.code,
        Resource.code,
        _PROVIDER.code,
        Grant.revoked_at,
        Grant.expires_at,
    )
    .join(_HOLDER, _HOLDER.id == Grant.department_id)
    .join(Resource, Resource.id == Grant.resource_id)
    .join(_PROVIDER, _PROVIDER.id == Resource.provider_id)
    .where(Grant.id == bindparam("grant_id"))
)


def grant_standing(session: Session, grant_id: int) -> GrantStanding:
    """A grant's liveness and the codes its audit entries name, without loading the grant:
    a file download asks for it on every HTTP request (one select, no lazy loads)."""
    row = session.execute(_GRANT_STANDING, {"grant_id": grant_id}).first()
    if row is None:
        raise NotFound(f"授权不存在 (no grant) {grant_id}")
    return GrantStanding(*row)


def grants_of(session: Session, *, department_id: int | None = None) -> Sequence[Grant]:
    """Grants a department holds or gives (as provider of the resource); all when None."""
    query = select(Grant).options(
        selectinload(Grant.department), selectinload(Grant.resource).selectinload(Resource.provider)
    )
    if department_id is not None:
        provided = select(Resource.id).where(Resource.provider_id == department_id)
        query = query.where(
            (Grant.department_id == department_id) | Grant.resource_id.in_(provided)
        )
    return session.scalars(query.order_by(Grant.id)).all()


def history(session: Session, *, entity: str, entity_id: int) -> Sequence[HistoryEntry]:
    return session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.entity == entity, HistoryEntry.entity_id == entity_id)
        .order_by(HistoryEntry.id)
    ).all()


def api_key(session: Session, key_id: str) -> ApiKey | None:
    return session.scalar(
        select(ApiKey).options(selectinload(ApiKey.department)).where(ApiKey.key_id == key_id)
    )


def api_keys(session: Session, *, department_id: int | None = None) -> Sequence[ApiKey]:
    query = select(ApiKey).options(selectinload(ApiKey.department)).order_by(ApiKey.id)
    if department_id is not None:
        query = query.where(ApiKey.department_id == department_id)
    return session.scalars(query).all()


def holiday_notices(session: Session) -> Sequence[HolidayNotice]:
    """Every imported holiday notice, oldest year first."""
    return session.scalars(select(HolidayNotice).order_by(HolidayNotice.year)).all()


def holiday_notice_or_none(session: Session, year: int) -> HolidayNotice | None:
    return session.scalar(select(HolidayNotice).where(HolidayNotice.year == year))


def batch_details(session: Session, *, status: str) -> Sequence[tuple[int, dict[str, Any]]]:
    """(resource id, details) of every ingest batch in ``status``."""
    query = select(IngestBatch.resource_id, IngestBatch.details).where(IngestBatch.status == status)
    return [(resource_id, details) for resource_id, details in session.execute(query)]


# ---- themes and 核验 subjects -------------------------------------------------------------

_THEME_LOAD = (
    selectinload(Theme.resource).selectinload(Resource.items),
    selectinload(Theme.resource).selectinload(Resource.mounts),
    selectinload(Theme.population),
    selectinload(Theme.derived),
)


def theme_or_none(session: Session, code: str) -> Theme | None:
    return session.scalar(select(Theme).options(*_THEME_LOAD).where(Theme.code == code))


def theme_of_resource(session: Session, resource_id: int) -> Theme | None:
    return session.scalar(
        select(Theme).options(*_THEME_LOAD).where(Theme.resource_id == resource_id)
    )


def themes(session: Session) -> Sequence[Theme]:
    return session.scalars(select(Theme).options(*_THEME_LOAD).order_by(Theme.code)).all()


_SUBJECT_LOAD = (
    selectinload(VerificationSubject.resource).selectinload(Resource.items),
    selectinload(VerificationSubject.theme),
)


def verification_or_none(session: Session, check: str) -> VerificationSubject | None:
    return session.scalar(
        select(VerificationSubject)
        .options(*_SUBJECT_LOAD)
        .where(VerificationSubject.check == check)
    )


def verifications(session: Session) -> Sequence[VerificationSubject]:
    return session.scalars(
        select(VerificationSubject).options(*_SUBJECT_LOAD).order_by(VerificationSubject.check)
    ).all()
