"""需求清单: demands, their routing through the duties, reviews and the grants they create.

The loop of DOMAIN.md: a demand goes to the department whose duties make it responsible for
the wanted items. A responsible provider with a mounted capability answers by share type
(无条件共享 at once, 有条件共享 within the working-day deadline, 不予共享 refused with its
basis); a responsible provider without one is a gap (待建设); with nobody responsible the data
authority must assign it (待分派).
"""

from __future__ import annotations

from datetime import timedelta

from catalog import auth, repository
from catalog.context import Actor, CatalogContext
from catalog.domain import DemandState, FieldAccess, ResourceState, ShareType
from catalog.errors import ValidationError
from catalog.history import record
from catalog.models import Demand, Department, Grant, HistoryEntry, Resource
from catalog.mounts import capability
from catalog.schemas import DemandDecisionIn, DemandIn
from catalog.workflow import DEMAND_FLOW, DemandAction


def _snapshot(demand: Demand) -> dict[str, object]:
    return {
        "state": str(demand.state),
        "provider": demand.provider.code if demand.provider else None,
        "resource": demand.resource.code if demand.resource else None,
        "due_date": demand.due_date.isoformat() if demand.due_date else None,
        "reason": demand.decision_reason or None,
    }


def _move(
    ctx: CatalogContext,
    demand: Demand,
    action: DemandAction,
    actor: Actor,
    *,
    before: dict[str, object] | None = None,
) -> Demand:
    """Move a demand's state and record it; ``before`` is the snapshot taken before a caller
    set other fields (the decision's reason) for the same step."""
    before = before or _snapshot(demand)
    demand.state = DEMAND_FLOW.next_state(demand.state, action, ref=demand.code)
    ctx.session.flush()
    record(
        ctx,
        entity="demand",
        entity_id=demand.id,
        action=str(action),
        actor=actor,
        before=before,
        after=_snapshot(demand),
    )
    return demand


def responsible_departments(ctx: CatalogContext, items: list[str]) -> list[Department]:
    """Departments one of whose duties covers every wanted item (职责清单 lookup)."""
    wanted = set(items)
    found: dict[int, Department] = {}
    for duty in repository.duties(ctx.session):
        if wanted <= set(duty.data_items):
            found.setdefault(duty.department_id, duty.department)
    return list(found.values())


def _published_with_items(
    ctx: CatalogContext, provider: Department, items: list[str]
) -> list[Resource]:
    candidates = repository.resources_with_items(
        ctx.session, provider_id=provider.id, item_names=items
    )
    published = [r for r in candidates if r.state is ResourceState.PUBLISHED]
    # Prefer a resource that can be used right now, then one that is the authoritative source.
    return sorted(
        published,
        key=lambda r: (
            capability(r) is None,
            not all(i.authoritative for i in r.items if i.name in items),
            r.code,
        ),
    )


def _next_code(ctx: CatalogContext) -> str:
    """XQ + Beijing date + a number of that day, taken from a counter row.

    Counting rows and adding one let parallel submissions take the same code; the counter
    hands each transaction its own number. A day's counter starts after any code of that
    day already stored (databases from before the counter existed).
    """
    prefix = f"XQ{ctx.today():%Y%m%d}"
    last = repository.last_demand_code(ctx.session, prefix=prefix)
    first = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    number = repository.next_number(ctx.session, name=f"demand:{prefix}", first=first)
    return f"{prefix}{number:06d}"


def submit_demand(
    ctx: CatalogContext, *, requester_code: str, spec: DemandIn, actor: Actor
) -> Demand:
    requester = repository.department(ctx.session, requester_code)
    auth.submit_demand(actor, requester)
    resource = None
    if spec.resource_code:
        resource = repository.resource(ctx.session, spec.resource_code)
        auth.view_resource(actor, resource)  # another's draft: 404, as if it did not exist
        if resource.state is not ResourceState.PUBLISHED:
            raise ValidationError(
                f"信息资源 {resource.code} 未发布，不能申请 (resource is {resource.state})"
            )
        unknown = sorted(set(spec.wanted_items) - {i.name for i in resource.items})
        if unknown:
            raise ValidationError(
                f"信息资源 {resource.code} 没有这些信息项 (unknown data items): "
                + "、".join(unknown)
            )
        if resource.provider_id == requester.id:
            raise ValidationError("不能向本部门申请本部门的资源 (a department owns this resource)")
    now = ctx.now()
    demand = Demand(
        code=_next_code(ctx),
        requester=requester,
        resource=resource,
        provider=resource.provider if resource else None,
        wanted_items=list(dict.fromkeys(spec.wanted_items)),
        raw_requested=list(dict.fromkeys(spec.raw_requested)),
        purpose=spec.purpose,
        legal_basis=spec.legal_basis,
        business_matter=spec.business_matter,
        scenario=spec.scenario,
        state=DemandState.SUBMITTED,
        submitted_at=now,
    )
    ctx.session.add(demand)
    ctx.session.flush()
    record(
        ctx,
        entity="demand",
        entity_id=demand.id,
        action="提出需求",
        actor=actor,
        before=None,
        after=spec.model_dump(mode="json"),
    )
    return route(ctx, demand, actor)


def route(ctx: CatalogContext, demand: Demand, actor: Actor) -> Demand:
    """Send a submitted demand to its provider and answer it as far as rules allow."""
    demand.routed_at = ctx.now()
    if demand.provider is None:
        responsible = responsible_departments(ctx, demand.wanted_items)
        responsible = [d for d in responsible if d.id != demand.requester_id]
        if not responsible:
            return _move(ctx, demand, DemandAction.ROUTE_UNASSIGNED, actor)
        ranked = sorted(
            responsible,
            key=lambda d: (not _published_with_items(ctx, d, demand.wanted_items), d.code),
        )
        demand.provider = ranked[0]
    if demand.resource is None:
        offers = _published_with_items(ctx, demand.provider, demand.wanted_items)
        if offers:
            demand.resource = offers[0]
    if demand.resource is None or capability(demand.resource) is None:
        return _move(ctx, demand, DemandAction.ROUTE_NO_CAPABILITY, actor)
    resource = demand.resource
    if resource.share_type is ShareType.UNCONDITIONAL:
        _move(ctx, demand, DemandAction.GRANT_AT_ONCE, actor)
        demand.decided_at = ctx.now()
        demand.decision_reason = "无条件共享，直接授权 (unconditional: granted at once)"
        create_grant(ctx, demand, raw_fields=[])
        return demand
    if resource.share_type is ShareType.NOT_SHARED:
        demand.decided_at = ctx.now()
        demand.decision_reason = f"不予共享，依据：{resource.not_shared_basis}"
        return _move(ctx, demand, DemandAction.REFUSE_NOT_SHARED, actor)
    demand.due_date = ctx.calendar.add_workdays(ctx.today(), ctx.settings.review_working_days)
    return _move(ctx, demand, DemandAction.ROUTE_TO_PROVIDER, actor)


def create_grant(
    ctx: CatalogContext, demand: Demand, *, raw_fields: list[str], days: int | None = None
) -> Grant:
    """Grant the wanted items; personal items are masked unless raw access was given for them."""
    resource = demand.resource
    if resource is None:
        raise ValidationError(f"需求 {demand.code} 尚未对应信息资源 (no resource to grant)")
    fields: dict[str, str] = {}
    for name in demand.wanted_items:
        item = resource.item(name)
        personal = item is not None and item.sensitivity.is_personal
        raw = name in raw_fields or not personal
        fields[name] = str(FieldAccess.RAW if raw else FieldAccess.MASKED)
    now = ctx.now()
    grant = Grant(
        demand=demand,
        department_id=demand.requester_id,
        resource=resource,
        fields=fields,
        purpose=demand.purpose,
        expires_at=now + timedelta(days=days or ctx.settings.default_grant_days),
        created_at=now,
    )
    ctx.session.add(grant)
    ctx.session.flush()
    record(
        ctx,
        entity="grant",
        entity_id=grant.id,
        action="授权",
        actor=Actor.steward("system"),
        before=None,
        after={"demand": demand.code, "fields": fields, "expires_at": grant.expires_at.isoformat()},
    )
    return grant


def assign_demand(ctx: CatalogContext, *, code: str, provider_code: str, actor: Actor) -> Demand:
    """The data authority names the responsible department for an unowned demand."""
    auth.assign_demand(actor)
    demand = repository.demand(ctx.session, code)
    provider = repository.department(ctx.session, provider_code)
    if provider.id == demand.requester_id:
        raise ValidationError("不能将需求分派给提出部门本身 (cannot assign to the requester)")
    _move(ctx, demand, DemandAction.ASSIGN, actor)
    demand.provider = provider
    return route(ctx, demand, actor)


def decide_demand(
    ctx: CatalogContext, *, code: str, decision: DemandDecisionIn, actor: Actor
) -> Demand:
    """The provider approves (creating the grant) or refuses with reasons."""
    demand = repository.demand(ctx.session, code)
    auth.decide_demand(actor, demand)
    if decision.approve:
        outside = sorted(set(decision.raw_fields) - set(demand.wanted_items))
        if outside:
            raise ValidationError(
                f"原文授权的信息项不在需求范围内 (raw fields not wanted): {outside}"
            )
    action = DemandAction.APPROVE if decision.approve else DemandAction.REFUSE
    DEMAND_FLOW.next_state(demand.state, action, ref=demand.code)  # refused before any change
    # The reason is part of the step: set before the move so its history entry shows it.
    before = _snapshot(demand)
    demand.decision_reason = decision.reason
    demand.decided_at = ctx.now()
    _move(ctx, demand, action, actor, before=before)
    if decision.approve:
        create_grant(ctx, demand, raw_fields=decision.raw_fields, days=decision.valid_days)
    return demand


def withdraw_demand(ctx: CatalogContext, *, code: str, actor: Actor) -> Demand:
    demand = repository.demand(ctx.session, code)
    auth.withdraw_demand(actor, demand)
    return _move(ctx, demand, DemandAction.WITHDRAW, actor)


def view_demand(ctx: CatalogContext, *, code: str, actor: Actor) -> Demand:
    demand = repository.demand(ctx.session, code)
    auth.view_demand(actor, demand)
    return demand


def demand_history(ctx: CatalogContext, *, code: str, actor: Actor) -> list[HistoryEntry]:
    """A demand's history (filed, routed, answered, due dates moved), for its parties and
    stewards: whoever may see the demand."""
    demand = view_demand(ctx, code=code, actor=actor)
    return list(repository.history(ctx.session, entity="demand", entity_id=demand.id))


def list_demands(
    ctx: CatalogContext, *, actor: Actor, states: list[DemandState] | None = None
) -> list[Demand]:
    """Stewards see every demand; a department sees those it made or must answer."""
    department_id = None
    if not actor.is_steward:
        department_id = repository.department(ctx.session, actor.department_code or "").id
    return list(repository.demands(ctx.session, department_id=department_id, states=states))


def demands_to_answer(ctx: CatalogContext, *, actor: Actor) -> list[Demand]:
    """Conditional demands 待审核 routed to the actor's department (every one, for stewards),
    the nearest due date first: what a provider must answer within the working-day deadline."""
    pending = list_demands(ctx, actor=actor, states=[DemandState.PENDING])
    if not actor.is_steward:
        pending = [
            d
            for d in pending
            if d.provider is not None and d.provider.code == actor.department_code
        ]
    return sorted(pending, key=lambda d: (d.due_date is None, d.due_date, d.code))


def reroute_waiting(ctx: CatalogContext, *, provider_id: int, actor: Actor) -> list[Demand]:
    """Demands that waited for this provider's capability are routed again."""
    waiting = [
        d
        for d in repository.demands(ctx.session, states=[DemandState.NO_CAPABILITY])
        if d.provider_id == provider_id
    ]
    for demand in waiting:
        _move(ctx, demand, DemandAction.CAPABILITY_READY, actor)
        route(ctx, demand, actor)
    return waiting
