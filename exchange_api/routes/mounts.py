"""挂接 routes: the steward's review of a mount and the provider's change requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from catalog import services
from catalog.schemas import HistoryOut, MountIn, MountOut, Page, ReviewIn
from catalog.views import history_out, mount_out
from exchange_api.deps import Context, CurrentActor
from exchange_api.errors import responses

router = APIRouter(prefix="/mounts", tags=["挂接 mounts"])

MountId = Annotated[int, Path(ge=1, le=2**31 - 1, description="挂接编号 (mount id)")]


@router.post(
    "/{mount_id}/review",
    response_model=MountOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="审核挂接或挂接变更 (steward: approve or return a mount or its change)",
)
def review_mount(
    ctx: Context, actor: CurrentActor, mount_id: MountId, review: ReviewIn
) -> MountOut:
    return mount_out(services.review_mount(ctx, mount_id=mount_id, review=review, actor=actor))


@router.post(
    "/{mount_id}/change",
    response_model=MountOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="申请挂接变更 (provider: propose a new target or config, same kind)",
)
def request_mount_change(
    ctx: Context, actor: CurrentActor, mount_id: MountId, spec: MountIn
) -> MountOut:
    return mount_out(services.request_mount_change(ctx, mount_id=mount_id, spec=spec, actor=actor))


@router.get(
    "/{mount_id}/history",
    response_model=Page[HistoryOut],
    responses=responses(401, 404, 422),
    summary="挂接的变更历史（能查看该信息资源者可见）",
)
def mount_history(ctx: Context, actor: CurrentActor, mount_id: MountId) -> Page[HistoryOut]:
    entries = services.mount_history(ctx, mount_id=mount_id, actor=actor)
    return Page[HistoryOut](data=[history_out(h) for h in entries], count=len(entries))
