"""Injected dependencies of the routes, as ``Annotated`` aliases.

``Context`` is one catalogue transaction per request: committed when the route succeeds,
rolled back when anything raises, before the response leaves. ``CurrentActor`` is whoever
the request's credential speaks for. It is the only place that reads credentials, so the
later short-lived signed tokens (exchanged for an API key) are one more branch in
:func:`current_actor` and no route changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from catalog import keys
from catalog.context import Actor, CatalogContext
from catalog.store import Catalog
from infra.errors import NotAuthenticated, ValidationError


def get_catalog(request: Request) -> Catalog:
    """The app's catalogue (one engine and connection pool per app)."""
    catalog: Catalog = request.app.state.catalog
    return catalog


def get_context(catalog: Annotated[Catalog, Depends(get_catalog)]) -> Iterator[CatalogContext]:
    """One unit of work per request; an exception in the route rolls it back."""
    with catalog.unit() as ctx:
        yield ctx


Context = Annotated[CatalogContext, Depends(get_context)]

# auto_error=False: a missing credential is our own 401 in the common error shape.
api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="ApiKey",
    description="部门访问密钥 gs_<key_id>_<secret> (department API key)",
)
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="Bearer",
    description="Authorization: Bearer gs_<key_id>_<secret>",
)

MISSING_CREDENTIALS = (
    "缺少访问凭据：请在 X-API-Key 请求头或 Authorization: Bearer 中提供部门访问密钥 "
    "(credentials required)"
)


def current_actor(
    ctx: Context,
    api_key: Annotated[str | None, Security(api_key_header)],
    authorization: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Actor:
    """Authenticate the request; X-API-Key wins when both headers are sent."""
    presented = api_key or (authorization.credentials if authorization else None)
    if not presented:
        raise NotAuthenticated(MISSING_CREDENTIALS)
    return keys.authenticate(ctx.session, presented)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def requester_code(
    actor: CurrentActor,
    requester_code: Annotated[
        str | None,
        Query(
            max_length=18,
            description="提出需求的部门，仅审核员代为提出时填写 (requester; stewards only)",
        ),
    ] = None,
) -> str:
    """Who a demand is made for: the caller's department, or the one a steward names.

    Whether the caller may act for that department is ``auth.submit_demand``'s decision.
    """
    if requester_code:
        return requester_code
    if actor.is_steward or not actor.department_code:
        raise ValidationError(
            "审核员代为提出需求时必须指定 requester_code (a steward must name the requester)",
            details=[
                {
                    "field": "requester_code",
                    "reason": "required for steward keys",
                    "location": "query",
                }
            ],
        )
    return actor.department_code


RequesterCode = Annotated[str, Depends(requester_code)]
