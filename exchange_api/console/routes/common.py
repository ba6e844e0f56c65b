"""What every page module shares: the router factory, the unit of work, query parsing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from catalog.context import CatalogContext
from catalog.store import Catalog
from exchange_api.console.web import ConsoleRoute, department_directory
from infra.errors import ValidationError

_E = TypeVar("_E", bound=StrEnum)

# Fixed notices a redirect may ask for (?done=...): never text taken from the request.
NOTICES = {
    "created": "已保存为待提交的目录 (saved as draft)",
    "submitted": "已提交审核 (submitted for review)",
    "approved": "审核通过，已发布 (approved)",
    "returned": "已退回 (returned)",
    "demand": "需求已提交 (demand submitted)",
    "decided": "已答复该需求 (answered)",
    "mount": "挂接审核已完成 (mount reviewed)",
    "signed_out": "已退出登录 (signed out)",
    "released": "已放行该批次，合格数据将由放行流程写入数据湖 (released; the lake side follows)",
    "rejected": "已退回该批次，提供部门已收到通知 (rejected; the provider is notified)",
    "imported": "目录已导入 (catalogue imported)",
    "withdrawn": "需求已撤回 (demand withdrawn)",
    "assigned": "已分派责任部门，需求已重新分发 (assigned and routed again)",
    "revoked": "授权已撤销，下一次调用即生效 (grant revoked)",
    "updated": "已保存修改 (saved)",
    "mounted": "已登记挂接，等待审核员审核 (mount submitted for review)",
    "change_requested": "已申请挂接变更，审核通过前仍按原挂接提供 (change submitted for review)",
}


def console_router() -> APIRouter:
    return APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@contextmanager
def unit(request: Request) -> Iterator[CatalogContext]:
    """One catalogue transaction: committed when the block ends, rolled back on an error."""
    catalog: Catalog = request.app.state.catalog
    with catalog.unit() as ctx:
        yield ctx


def notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("done", ""))


def choice(kind: type[_E], value: str | None, label: str) -> _E | None:
    """A select's value as its enum; blank is "any", anything else unknown is a 422."""
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise ValidationError(f"{label}取值无效 (invalid {label})") from None


def resource_url(code: str, suffix: str = "") -> str:
    return "/catalog/r/" + quote(code, safe="/") + suffix


def see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def department_names(request: Request, ctx: CatalogContext) -> dict[str, str]:
    """Department code -> name, for filters and tables (cached briefly, see
    :func:`exchange_api.console.web.department_directory`)."""
    return department_directory(request, ctx.session)
