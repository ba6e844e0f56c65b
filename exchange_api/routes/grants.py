"""授权 routes: the grants a department holds or gives, and revoking one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from catalog import grants
from catalog.schemas import GrantOut, GrantRevokeIn, HistoryOut, Page
from catalog.views import grant_out, history_out
from exchange_api.deps import Context, CurrentActor
from exchange_api.errors import responses

router = APIRouter(prefix="/grants", tags=["授权 grants"])

GrantId = Annotated[int, Path(ge=1, le=2**31 - 1, description="授权编号 (grant id)")]


@router.get(
    "",
    response_model=Page[GrantOut],
    responses=responses(401, 404),
    summary="授权列表：本部门持有或提供的授权（审核员：全部）",
)
def list_grants(ctx: Context, actor: CurrentActor) -> Page[GrantOut]:
    found = grants.list_grants(ctx, actor=actor)
    return Page[GrantOut](data=[grant_out(g) for g in found], count=len(found))


@router.post(
    "/{grant_id}/revoke",
    response_model=GrantOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="撤销授权（资源提供部门或审核员，须说明理由，下一次调用即生效）",
)
def revoke_grant(
    ctx: Context, actor: CurrentActor, grant_id: GrantId, body: GrantRevokeIn
) -> GrantOut:
    grant = grants.revoke_grant(ctx, grant_id=grant_id, reason=body.reason, actor=actor)
    return grant_out(grant)


@router.get(
    "/{grant_id}/history",
    response_model=Page[HistoryOut],
    responses=responses(401, 403, 404, 422),
    summary="授权的变更历史（授权双方与审核员）",
)
def grant_history(ctx: Context, actor: CurrentActor, grant_id: GrantId) -> Page[HistoryOut]:
    entries = grants.grant_history(ctx, grant_id=grant_id, actor=actor)
    return Page[HistoryOut](data=[history_out(h) for h in entries], count=len(entries))
