"""信息资源 routes: search, read, catalogue, review and retire resources; attach mounts.

Resource codes contain a slash (前段码/后段码), so the code is a
``path`` parameter; ``%2F`` works as well. Starlette tries routes in order and a ``path``
parameter also swallows ``/versions``, so the routes with a suffix come before the bare
``GET /resources/{code}``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from catalog import search, services
from catalog.domain import ResourceClass, ResourceState, ShareType
from catalog.schemas import HistoryOut, MountIn, MountOut, Page, ResourceIn, ResourceOut, ReviewIn
from catalog.views import history_out, mount_out, resource_out
from exchange_api.deps import Context, CurrentActor
from exchange_api.errors import responses
from exchange_api.schemas import OfflineDecisionIn, OfflineIn, ResourceVersionOut

router = APIRouter(prefix="/resources", tags=["信息资源 resources"])

MAX_PAGE = 200


@router.get(
    "",
    response_model=Page[ResourceOut],
    responses=responses(401, 404, 422),
    summary="检索目录 (search or list resources)",
)
def list_resources(
    ctx: Context,
    actor: CurrentActor,
    q: Annotated[
        str, Query(max_length=200, description="检索词，空格分隔，全部匹配；为空时按条件列出")
    ] = "",
    department: Annotated[
        str | None, Query(max_length=18, description="提供方统一社会信用代码 (provider code)")
    ] = None,
    classification: ResourceClass | None = None,
    share_type: ShareType | None = None,
    state: ResourceState | None = None,
    limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[ResourceOut]:
    """Every department may browse the published catalogue: sharing starts by finding."""
    found, total = services.search_resources(
        ctx,
        query=q,
        actor=actor,
        filters=search.SearchFilters(
            provider_code=department,
            classification=classification,
            share_type=share_type,
            states=(state,) if state else None,
        ),
        limit=limit or ctx.settings.search_default_limit,
        offset=offset,
    )
    return Page[ResourceOut](data=[resource_out(r, with_mounts=False) for r in found], count=total)


@router.post(
    "",
    response_model=ResourceOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 404, 409, 422),
    summary="编制目录 (catalogue a new resource, state 待提交)",
)
def create_resource(ctx: Context, actor: CurrentActor, spec: ResourceIn) -> ResourceOut:
    return resource_out(services.create_resource(ctx, spec=spec, actor=actor))


@router.get(
    "/{code:path}/versions",
    response_model=Page[ResourceVersionOut],
    responses=responses(401, 404, 422),
    summary="版本快照 (versions of a resource)",
)
def resource_versions(ctx: Context, actor: CurrentActor, code: str) -> Page[ResourceVersionOut]:
    versions = services.resource_versions(ctx, code=code, actor=actor)
    return Page[ResourceVersionOut](
        data=[ResourceVersionOut.model_validate(v) for v in versions], count=len(versions)
    )


@router.get(
    "/{code:path}/history",
    response_model=Page[HistoryOut],
    responses=responses(401, 404, 422),
    summary="变更历史 (change history of a resource)",
)
def resource_history(ctx: Context, actor: CurrentActor, code: str) -> Page[HistoryOut]:
    entries = services.resource_history(ctx, code=code, actor=actor)
    return Page[HistoryOut](data=[history_out(h) for h in entries], count=len(entries))


@router.get(
    "/{code:path}",
    response_model=ResourceOut,
    responses=responses(401, 404, 422),
    summary="查看信息资源 (one resource with its data items and mounts)",
)
def get_resource(ctx: Context, actor: CurrentActor, code: str) -> ResourceOut:
    return resource_out(services.view_resource(ctx, code=code, actor=actor))


@router.put(
    "/{code:path}",
    response_model=ResourceOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="修改目录 (edit a 待提交 or 已退回 resource; the code never changes)",
)
def update_resource(ctx: Context, actor: CurrentActor, code: str, spec: ResourceIn) -> ResourceOut:
    return resource_out(services.update_resource(ctx, code=code, spec=spec, actor=actor))


@router.post(
    "/{code:path}/submit",
    response_model=ResourceOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="提交审核 (submit for the data authority's review)",
)
def submit_resource(ctx: Context, actor: CurrentActor, code: str) -> ResourceOut:
    return resource_out(services.submit_resource(ctx, code=code, actor=actor))


@router.post(
    "/{code:path}/review",
    response_model=ResourceOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="审核目录 (steward: publish or return with a reason)",
)
def review_resource(ctx: Context, actor: CurrentActor, code: str, review: ReviewIn) -> ResourceOut:
    return resource_out(services.review_resource(ctx, code=code, review=review, actor=actor))


@router.post(
    "/{code:path}/offline/decision",
    response_model=ResourceOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="确认或撤销下线 (steward: confirm or cancel taking a resource offline)",
)
def decide_offline(
    ctx: Context, actor: CurrentActor, code: str, decision: OfflineDecisionIn
) -> ResourceOut:
    return resource_out(
        services.decide_offline(ctx, code=code, confirm=decision.confirm, actor=actor)
    )


@router.post(
    "/{code:path}/offline",
    response_model=ResourceOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="申请下线 (provider: ask to take a published resource offline)",
)
def request_offline(
    ctx: Context, actor: CurrentActor, code: str, request: OfflineIn
) -> ResourceOut:
    return resource_out(
        services.request_offline(ctx, code=code, reason=request.reason, actor=actor)
    )


@router.post(
    "/{code:path}/mounts",
    response_model=MountOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 404, 409, 422),
    summary="挂接资源 (attach a table, API or file; goes to review as 挂接待审核)",
)
def add_mount(ctx: Context, actor: CurrentActor, code: str, spec: MountIn) -> MountOut:
    return mount_out(services.add_mount(ctx, resource_code=code, spec=spec, actor=actor))
