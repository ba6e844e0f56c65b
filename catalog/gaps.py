"""Gap report: where the three lists and the catalogue do not close the loop.

Each kind of gap is a list of its own, so a steward can work through one kind at a time and a
script can read ``--json`` without parsing prose.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel

from catalog import auth, repository
from catalog.context import Actor, CatalogContext
from catalog.domain import DemandState, MountState, ResourceState
from catalog.models import Demand, Duty, Resource
from catalog.mounts import capability
from catalog.workdays_notices import demand_deadline, is_overdue

LIVE_STATES = (
    ResourceState.DRAFT,
    ResourceState.PENDING,
    ResourceState.PUBLISHED,
    ResourceState.RETURNED,
    ResourceState.RETIRING,
)


class DepartmentCoverage(BaseModel):
    """应编尽编 coverage: how many of a department's duties have catalogued resources."""

    department_code: str
    department_name: str
    duties: int
    covered: int
    coverage: float


class UncataloguedDuty(BaseModel):
    department_code: str
    department_name: str
    duty_code: str
    duty_name: str
    missing_items: list[str]


class UnmountedResource(BaseModel):
    resource_code: str
    resource_name: str
    provider_code: str
    provider_name: str
    mount_states: list[str]


class DemandGap(BaseModel):
    demand_code: str
    requester_code: str
    requester_name: str
    provider_code: str | None
    provider_name: str | None
    wanted_items: list[str]
    purpose: str


class OverdueReview(BaseModel):
    kind: str  # 共享需求 | 信息资源 | 挂接
    ref: str
    name: str
    reviewer: str
    since: date
    due: date
    due_provisional: bool = False  # counted across days no holiday notice covers yet (暂定)
    working_days_late: int


class SourceConflict(BaseModel):
    """一数一源: one data item claimed as authoritative by more than one resource."""

    item_name: str
    resources: list[str]
    providers: list[str]


class GapReport(BaseModel):
    coverage: list[DepartmentCoverage]
    uncatalogued_duties: list[UncataloguedDuty]
    unmounted_resources: list[UnmountedResource]
    unowned_demands: list[DemandGap]
    no_capability_demands: list[DemandGap]
    overdue_reviews: list[OverdueReview]
    source_conflicts: list[SourceConflict]

    @property
    def total(self) -> int:
        return sum(
            len(getattr(self, name))
            for name in (
                "uncatalogued_duties",
                "unmounted_resources",
                "unowned_demands",
                "no_capability_demands",
                "overdue_reviews",
                "source_conflicts",
            )
        )


def _coverage(
    ctx: CatalogContext, live: Sequence[Resource]
) -> tuple[list[DepartmentCoverage], list[UncataloguedDuty]]:
    duty_ids = {r.duty_id for r in live if r.duty_id is not None}
    items_by_provider: dict[int, set[str]] = {}
    for r in live:
        items_by_provider.setdefault(r.provider_id, set()).update(i.name for i in r.items)
    duties_by_department: dict[int, list[Duty]] = {}
    for duty in repository.duties(ctx.session):
        duties_by_department.setdefault(duty.department_id, []).append(duty)
    coverage, gaps = [], []
    for department in repository.departments(ctx.session):
        duties = duties_by_department.get(department.id, [])
        if not duties:
            continue
        covered = [d for d in duties if d.id in duty_ids]
        coverage.append(
            DepartmentCoverage(
                department_code=department.code,
                department_name=department.name,
                duties=len(duties),
                covered=len(covered),
                coverage=round(len(covered) / len(duties), 4),
            )
        )
        catalogued = items_by_provider.get(department.id, set())
        for duty in duties:
            if duty.id not in duty_ids:
                gaps.append(
                    UncataloguedDuty(
                        department_code=department.code,
                        department_name=department.name,
                        duty_code=duty.code,
                        duty_name=duty.name,
                        missing_items=[i for i in duty.data_items if i not in catalogued],
                    )
                )
    return coverage, gaps


def _unmounted(live: Sequence[Resource]) -> list[UnmountedResource]:
    return [
        UnmountedResource(
            resource_code=r.code,
            resource_name=r.name,
            provider_code=r.provider.code,
            provider_name=r.provider.name,
            mount_states=[str(m.state) for m in r.mounts],
        )
        for r in live
        if r.state is ResourceState.PUBLISHED and capability(r) is None
    ]


def _demand_gaps(demands: Sequence[Demand], state: DemandState) -> list[DemandGap]:
    return [
        DemandGap(
            demand_code=d.code,
            requester_code=d.requester.code,
            requester_name=d.requester.name,
            provider_code=d.provider.code if d.provider else None,
            provider_name=d.provider.name if d.provider else None,
            wanted_items=list(d.wanted_items),
            purpose=d.purpose,
        )
        for d in demands
        if d.state is state
    ]


def _overdue(
    ctx: CatalogContext, live: Sequence[Resource], demands: Sequence[Demand]
) -> list[OverdueReview]:
    today, cal, limit = ctx.today(), ctx.calendar, ctx.settings.review_working_days
    found: list[OverdueReview] = []
    for d in demands:
        if d.state is not DemandState.PENDING:
            continue
        deadline = demand_deadline(ctx, d)
        if is_overdue(ctx, d) and deadline is not None:
            found.append(
                OverdueReview(
                    kind="共享需求",
                    ref=d.code,
                    name=d.purpose,
                    reviewer=d.provider.name if d.provider else "",
                    since=d.submitted_at.date(),
                    due=deadline.due,
                    due_provisional=deadline.provisional,
                    working_days_late=cal.workdays_between(deadline.due, today),
                )
            )
    # Stewards are held to the same working-day limit for catalogue and mount reviews.
    for r in (r for r in live if r.state is ResourceState.PENDING):
        deadline = cal.deadline(r.state_changed_at.date(), limit)
        due = deadline.due
        if today > due:
            found.append(
                OverdueReview(
                    kind="信息资源",
                    ref=r.code,
                    name=r.name,
                    reviewer="数据管理机构",
                    since=r.state_changed_at.date(),
                    due=due,
                    due_provisional=deadline.provisional,
                    working_days_late=cal.workdays_between(due, today),
                )
            )
    for m in repository.mounts(ctx.session, states=[MountState.PENDING, MountState.CHANGE_PENDING]):
        deadline = cal.deadline(m.state_changed_at.date(), limit)
        due = deadline.due
        if today > due:
            found.append(
                OverdueReview(
                    kind="挂接",
                    ref=f"{m.resource.code}#{m.id}",
                    name=m.resource.name,
                    reviewer="数据管理机构",
                    since=m.state_changed_at.date(),
                    due=due,
                    due_provisional=deadline.provisional,
                    working_days_late=cal.workdays_between(due, today),
                )
            )
    return found


def _conflicts(ctx: CatalogContext, hidden: set[str]) -> list[SourceConflict]:
    claims: dict[str, list[tuple[str, str]]] = {}
    for name, resource in repository.authoritative_items(ctx.session):
        if resource.code not in hidden:
            claims.setdefault(name, []).append((resource.code, resource.provider.name))
    return [
        SourceConflict(
            item_name=name,
            resources=[code for code, _ in owners],
            providers=sorted({provider for _, provider in owners}),
        )
        for name, owners in sorted(claims.items())
        if len(owners) > 1
    ]


def _hidden_codes(ctx: CatalogContext, actor: Actor | None) -> set[str]:
    """Codes of unpublished resources ``actor`` may not see (``auth.view_resource``)."""
    if actor is None or actor.is_steward:
        return set()
    unpublished = [s for s in ResourceState if s not in auth.PUBLIC_STATES]
    return {
        r.code
        for r in repository.resources(ctx.session, states=unpublished)
        if r.provider.code != actor.department_code
    }


def gap_report(ctx: CatalogContext, *, actor: Actor | None = None) -> GapReport:
    """The gaps of the whole catalogue; for a department (``actor``), without naming other
    departments' unpublished resources (None: the steward's full view, as in the CLI)."""
    hidden = _hidden_codes(ctx, actor)
    # Each table is read once and the sections filter in memory: the report runs on every
    # `govshare catalog gaps`, where a query per department and section cost a third of the time.
    live = repository.resources(ctx.session, states=LIVE_STATES)
    demands = repository.demands(
        ctx.session,
        states=[DemandState.UNASSIGNED, DemandState.NO_CAPABILITY, DemandState.PENDING],
    )
    coverage, uncatalogued = _coverage(ctx, live)
    return GapReport(
        coverage=coverage,
        uncatalogued_duties=uncatalogued,
        unmounted_resources=_unmounted(live),
        unowned_demands=_demand_gaps(demands, DemandState.UNASSIGNED),
        no_capability_demands=_demand_gaps(demands, DemandState.NO_CAPABILITY),
        overdue_reviews=[
            r
            for r in _overdue(ctx, live, demands)
            if r.kind == "共享需求" or r.ref.split("#")[0] not in hidden
        ],
        source_conflicts=_conflicts(ctx, hidden),
    )
