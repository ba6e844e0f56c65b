"""Injected dependencies of the routes, as ``Annotated`` aliases.

``Context`` is one catalogue transaction per request: committed when the route succeeds,
rolled back when anything raises, before the response leaves. ``CurrentActor`` is whoever
the request's credential speaks for. It is the only place that reads credentials, so the
later short-lived signed tokens (exchanged for an API key) are one more branch in
:func:`current_actor` and no route changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Iterator
from datetime import date
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import Depends, Header, Query, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalog import keys
from catalog.context import CHINA_TZ, Actor, CatalogContext
from catalog.store import Catalog
from exchange_api.exceptions import TokenRequired
from exchange_api.runtime import PURPOSE_MAX, DataCall, Exchange
from exchange_api.tokens import looks_like_token
from infra.errors import GovshareError, NotAuthenticated, ValidationError


def get_catalog(request: Request) -> Catalog:
    """The app's catalogue (one engine and connection pool per app)."""
    catalog: Catalog = request.app.state.catalog
    return catalog


def get_context(catalog: Annotated[Catalog, Depends(get_catalog)]) -> Iterator[CatalogContext]:
    """One unit of work per request; an exception in the route rolls it back."""
    with catalog.unit() as ctx:
        yield ctx


Context = Annotated[CatalogContext, Depends(get_context)]


def get_today(ctx: Context) -> date:
    """The request's day in Beijing, from the catalogue's clock: the date rules judge by it."""
    return ctx.now().astimezone(CHINA_TZ).date()


Today = Annotated[date, Depends(get_today)]

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


def get_exchange(request: Request) -> Exchange:
    """The app's serving side: platform key, tokens, lake snapshots, audit log."""
    exchange: Exchange = request.app.state.exchange
    return exchange


ExchangeDep = Annotated[Exchange, Depends(get_exchange)]


def current_actor(
    ctx: Context,
    exchange: ExchangeDep,
    api_key: Annotated[str | None, Security(api_key_header)],
    authorization: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Actor:
    """Authenticate the request; X-API-Key wins when both headers are sent.

    A bearer credential is either an API key (``gs_…``) or an access token from
    ``POST /api/v1/token``; catalogue routes accept both.
    """
    presented = api_key or (authorization.credentials if authorization else None)
    if not presented:
        raise NotAuthenticated(MISSING_CREDENTIALS)
    if not api_key and looks_like_token(presented):
        return exchange.tokens.verify(presented)
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


TOKEN_REQUIRED = (
    "数据接口需使用访问令牌：请先用访问密钥调用 POST /api/v1/token 换取 "
    "(data endpoints need an access token; exchange your API key at POST /api/v1/token)"
)

access_token = HTTPBearer(
    auto_error=False,
    scheme_name="AccessToken",
    bearerFormat="JWT (EdDSA)",
    description="Authorization: Bearer <POST /api/v1/token 换取的访问令牌>",
)


def token_actor(
    request: Request,
    exchange: ExchangeDep,
    authorization: Annotated[HTTPAuthorizationCredentials | None, Security(access_token)],
    api_key: Annotated[str | None, Security(api_key_header)],
) -> Actor:
    """Data calls take short-lived tokens only: the long-lived key stays at the token endpoint."""
    if authorization is not None and looks_like_token(authorization.credentials):
        actor = exchange.tokens.verify(authorization.credentials)
        request.state.actor = actor  # for the log entry of a refusal after this point
        return actor
    if api_key or authorization is not None:
        raise TokenRequired(TOKEN_REQUIRED)
    raise NotAuthenticated(MISSING_CREDENTIALS)


TokenActor = Annotated[Actor, Depends(token_actor)]

MISSING_PURPOSE = (
    "必须声明用途：X-Purpose 请求头（UTF-8 百分号编码）或 purpose 参数 (purpose required)"
)


def data_call(
    request: Request,
    response: Response,
    actor: TokenActor,
    x_purpose: Annotated[
        str | None,
        Header(
            alias="X-Purpose",
            max_length=600,
            description="用途，须与授权用途一致；中文请用 UTF-8 百分号编码 (declared purpose)",
        ),
    ] = None,
    purpose: Annotated[
        str | None, Query(max_length=200, description="用途，也可放在 X-Purpose 请求头")
    ] = None,
) -> DataCall:
    """Who calls for what purpose; the request id goes back in ``X-Request-Id``."""
    declared = unquote(x_purpose) if x_purpose else purpose
    if not declared or not declared.strip():
        raise ValidationError(
            MISSING_PURPOSE,
            details=[{"field": "X-Purpose", "reason": "required", "location": "header"}],
        )
    if len(declared.strip()) > PURPOSE_MAX:
        raise ValidationError(
            f"用途过长：最多 {PURPOSE_MAX} 个字符 (purpose too long)",
            details=[{"field": "X-Purpose", "reason": "too long", "location": "header"}],
        )
    request_id = uuid.uuid4().hex
    response.headers["X-Request-Id"] = request_id
    call = DataCall(
        actor=actor,
        purpose=declared.strip(),
        endpoint=route_endpoint(request),
        request_id=request_id,
    )
    request.state.data_call = call
    return call


def route_endpoint(request: Request) -> str:
    """Method and route template: never the concrete path, which may hold an ID number."""
    route = request.scope.get("route")
    template = getattr(route, "path", None) or "(unrouted)"
    return f"{request.method} {template}"


def _refusal(error: Exception) -> tuple[int, str]:
    if isinstance(error, GovshareError):
        return error.status_code, error.error_code
    if isinstance(error, RequestValidationError):
        return 422, "VALIDATION_ERROR"
    if isinstance(error, StarletteHTTPException):
        return error.status_code, "HTTP_ERROR"
    return 500, "INTERNAL_ERROR"


def log_refusal(request: Request, error: Exception) -> None:
    """Write the audit entry of a data call refused before its service took it over."""
    call: DataCall | None = getattr(request.state, "data_call", None)
    if call is not None and call.audited:
        return
    exchange: Exchange = request.app.state.exchange
    status, code = _refusal(error)
    purpose = call.purpose if call is not None else ""
    exchange.log_refusal(
        actor=call.actor if call is not None else getattr(request.state, "actor", None),
        endpoint=route_endpoint(request),
        purpose=purpose,
        status=status,
        error_code=code,
        request_id=call.request_id if call is not None else None,
    )


class AuditedRoute(APIRoute):
    """A data route whose every refusal reaches the audit log.

    :meth:`Exchange.audited` logs what happens inside a service. A bad token, a missing
    purpose or a request FastAPI rejects (422) fails before that, and an unlogged refusal
    would hide probing; this wrapper logs those.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def audited_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:
                await run_in_threadpool(log_refusal, request, error)
                raise

        return audited_handler


Call = Annotated[DataCall, Depends(data_call)]


def api_key_actor(
    ctx: Context,
    exchange: ExchangeDep,
    request: Request,
    api_key: Annotated[str | None, Security(api_key_header)],
    authorization: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> tuple[Actor, str]:
    """The token endpoint takes an API key only: a token cannot renew itself.

    Exchanging a key is a sign-in: failures are limited per client and key id
    (``exchange_api.signins``), as on the console's sign-in page.
    """
    presented = api_key or (authorization.credentials if authorization else None)
    if not presented:
        raise NotAuthenticated(MISSING_CREDENTIALS)
    if looks_like_token(presented):
        raise NotAuthenticated(
            "换取令牌需使用访问密钥，不能用令牌 (present an API key, not a token)"
        )
    attempt = exchange.signins.attempt(
        client=request.client.host if request.client else None, presented=presented
    )
    exchange.signins.check(attempt)
    try:
        actor = keys.authenticate(ctx.session, presented)
    except NotAuthenticated:
        exchange.signins.failed(attempt)
        raise
    return actor, presented.strip().split("_")[1]


KeyActor = Annotated[tuple[Actor, str], Depends(api_key_actor)]
