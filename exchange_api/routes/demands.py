"""需求清单 routes: submit, list, read, answer, assign and withdraw sharing demands.

A demand is made for the caller's own department; a steward acting for one names it in
``requester_code``. Who may see or answer a demand is decided in ``catalog.auth``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from catalog import demands
from catalog.domain import DemandState
from catalog.schemas import DemandDecisionIn, DemandIn, DemandOut, HistoryOut, Page
from catalog.views import demand_out, history_out
from exchange_api.deps import Context, CurrentActor, RequesterCode
from exchange_api.errors import responses
from exchange_api.schemas import AssignIn

router = APIRouter(prefix="/demands", tags=["共享需求 demands"])

DemandCode = Annotated[str, Path(min_length=1, max_length=40, description="需求编号")]


@router.post(
    "",
    response_model=DemandOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 404, 409, 422),
    summary="提出共享需求 (submit a demand; routed and, if unconditional, granted at once)",
)
def submit_demand(
    ctx: Context, actor: CurrentActor, requester: RequesterCode, spec: DemandIn
) -> DemandOut:
    demand = demands.submit_demand(ctx, requester_code=requester, spec=spec, actor=actor)
    return demand_out(ctx, demand)


@router.get(
    "",
    response_model=Page[DemandOut],
    responses=responses(401, 422),
    summary="需求列表 (a department's own demands, made or to answer; all for stewards)",
)
def list_demands(
    ctx: Context, actor: CurrentActor, state: DemandState | None = None
) -> Page[DemandOut]:
    found = demands.list_demands(ctx, actor=actor, states=[state] if state else None)
    return Page[DemandOut](data=[demand_out(ctx, d) for d in found], count=len(found))


@router.get(
    "/{code}",
    response_model=DemandOut,
    responses=responses(401, 403, 404, 422),
    summary="查看需求 (one demand; parties and stewards only)",
)
def view_demand(ctx: Context, actor: CurrentActor, code: DemandCode) -> DemandOut:
    return demand_out(ctx, demands.view_demand(ctx, code=code, actor=actor))


@router.get(
    "/{code}/history",
    response_model=Page[HistoryOut],
    responses=responses(401, 403, 404, 422),
    summary="需求的变更历史（需求双方与审核员）",
)
def demand_history(ctx: Context, actor: CurrentActor, code: DemandCode) -> Page[HistoryOut]:
    entries = demands.demand_history(ctx, code=code, actor=actor)
    return Page[HistoryOut](data=[history_out(h) for h in entries], count=len(entries))


@router.post(
    "/{code}/decision",
    response_model=DemandOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="答复有条件共享需求 (provider: approve with a grant, or refuse with reasons)",
)
def decide_demand(
    ctx: Context, actor: CurrentActor, code: DemandCode, decision: DemandDecisionIn
) -> DemandOut:
    return demand_out(ctx, demands.decide_demand(ctx, code=code, decision=decision, actor=actor))


@router.post(
    "/{code}/assign",
    response_model=DemandOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="分派需求 (steward: name the responsible department of an unowned demand)",
)
def assign_demand(
    ctx: Context, actor: CurrentActor, code: DemandCode, assignment: AssignIn
) -> DemandOut:
    demand = demands.assign_demand(
        ctx, code=code, provider_code=assignment.provider_code, actor=actor
    )
    return demand_out(ctx, demand)


@router.post(
    "/{code}/withdraw",
    response_model=DemandOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="撤回需求 (requester: withdraw a demand not yet answered)",
)
def withdraw_demand(ctx: Context, actor: CurrentActor, code: DemandCode) -> DemandOut:
    return demand_out(ctx, demands.withdraw_demand(ctx, code=code, actor=actor))
