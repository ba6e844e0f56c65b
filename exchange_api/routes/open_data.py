"""开放数据 routes: the catalogue as a DCAT-AP feed for open-data portals.

``GET /open-data/dcat`` is deliberately public (no credential): portals such as CKAN harvest
it unattended, and it holds only resources open to society (``catalog.transfer.dcat``).
``GET /open-data/dcat/full`` lists every published resource and takes a steward key.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from catalog.transfer.dcat import dcat_feed
from exchange_api.deps import Context, CurrentActor
from exchange_api.errors import responses

JSON_LD = "application/ld+json"
_FEED: dict[int | str, dict[str, Any]] = {
    200: {"description": "DCAT-AP 3.0 JSON-LD", "content": {JSON_LD: {}}}
}

# Outside the credential-checking router on purpose: the public feed is public.
public_router = APIRouter(prefix="/open-data", tags=["开放数据 open data"])
router = APIRouter(prefix="/open-data", tags=["开放数据 open data"])


class JsonLdResponse(JSONResponse):
    media_type = JSON_LD


@public_router.get(
    "/dcat",
    response_class=JsonLdResponse,
    responses=_FEED,
    summary="开放数据目录 DCAT-AP（公开，仅向社会开放的资源）",
)
def public_feed(ctx: Context) -> Any:
    return JsonLdResponse(dcat_feed(ctx, full=False))


@router.get(
    "/dcat/full",
    response_class=JsonLdResponse,
    responses={**_FEED, **responses(401, 403)},
    summary="完整目录 DCAT-AP（全部已发布资源，仅审核员）",
)
def full_feed(ctx: Context, actor: CurrentActor) -> Any:
    return JsonLdResponse(dcat_feed(ctx, full=True, actor=actor))
