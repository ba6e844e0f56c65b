"""The console's plumbing: templates, the signed-in user, CSRF-checked forms, error pages.

Pages are rendered by Jinja2 with autoescaping always on, so a resource named
``<script>alert(1)</script>`` is shown as text. Every console response carries a
Content-Security-Policy without ``'unsafe-inline'``: no inline script or style runs even if
something slipped through escaping. Errors of the catalogue's services (the same
``GovshareError`` family the API maps to JSON) become Chinese error pages with the same status
codes; a missing or expired session becomes a redirect to the sign-in page.
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from catalog import keys, repository
from catalog.context import CHINA_TZ, Actor
from catalog.domain import Role
from catalog.errors import NotAuthorized
from catalog.store import Catalog
from exchange_api.console.sessions import (
    COOKIE,
    CSRF_FIELD,
    LOGIN_COOKIE,
    ConsoleSession,
    SessionCodec,
)
from exchange_api.runtime import Exchange
from infra.errors import GovshareError, NotAuthenticated

log = logging.getLogger("govshare.console")

TEMPLATES = Path(__file__).parent / "templates"
STATIC_URL = "/static/console"

# No 'unsafe-inline' and no 'unsafe-eval' anywhere: scripts and styles come from our files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

ROLE_LABELS = {Role.STEWARD: "审核员", Role.DEPARTMENT: "部门"}


def _beijing(value: datetime | None) -> str:
    """Times as Chinese users read them: Beijing time, to the minute."""
    if value is None:
        return ""
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every template, whatever its name: user strings are always escaped
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["beijing"] = _beijing
environment.filters["urlpath"] = lambda value: quote(str(value), safe="/")
environment.globals["static"] = lambda name: f"{STATIC_URL}/{name}"


class NotSignedIn(NotAuthenticated):
    """No live session: the browser is sent to the sign-in page."""


class CsrfRefused(NotAuthorized):
    """A form came back without this session's token: forged or stale (403)."""

    error_code = "CSRF_REFUSED"


CSRF_MESSAGE = (
    "表单校验失败：缺少或错误的 CSRF 令牌，请刷新页面后重试 (CSRF token missing or wrong)"
)


@dataclass(frozen=True)
class ConsoleUser:
    """The signed-in user as the pages need it."""

    session: ConsoleSession
    actor: Actor
    department_name: str

    @property
    def is_steward(self) -> bool:
        return self.actor.is_steward

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.actor.role]

    @property
    def csrf(self) -> str:
        return self.session.csrf


def get_codec(request: Request) -> SessionCodec:
    codec: SessionCodec = request.app.state.console_sessions
    return codec


def console_exchange(request: Request) -> Exchange:
    exchange: Exchange = request.app.state.exchange
    return exchange


def console_now(request: Request) -> datetime:
    return console_exchange(request).clock()


def department_directory(request: Request, session: Session) -> dict[str, str]:
    """Department code -> name, in registry order, reused for a few seconds.

    Nearly every page names departments (filters, tables, the header) and the registry
    changes rarely; like the API's catalogue cache (``catalogue_cache_seconds``), a new
    department shows up within that time. Reading ~400 rows on every click cost the search
    page a fifth of its time (``bench/console.py``).
    """
    exchange: Exchange = request.app.state.exchange
    cached: tuple[float, dict[str, str]] | None = getattr(
        request.app.state, "console_departments", None
    )
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    names = {d.code: d.name for d in repository.departments(session)}
    request.app.state.console_departments = (now + exchange.config.catalogue_cache_seconds, names)
    return names


def console_user(request: Request) -> ConsoleUser:
    """The signed-in user, re-checked against the catalogue on every request.

    The key must still be live and speak for the same department and role
    (``catalog.keys.key_is_live``): revoking a key signs its sessions out at once.
    """
    now = console_now(request)
    session = get_codec(request).decode(request.cookies.get(COOKIE), now=now)
    if session is None:
        raise NotSignedIn("请先登录 (sign in first)")
    catalog: Catalog = request.app.state.catalog
    with catalog.unit() as ctx:
        if not keys.key_is_live(ctx.session, key_id=session.key_id, actor=session.actor):
            raise NotSignedIn("登录已失效，请重新登录 (session no longer valid)")
        name = department_directory(request, ctx.session).get(
            session.department_code, session.department_code
        )
    user = ConsoleUser(
        session=get_codec(request).touch(session, now=now),
        actor=session.actor,
        department_name=name,
    )
    request.state.console_user = user
    return user


CurrentUser = Annotated[ConsoleUser, Depends(console_user)]


def _matches(expected: str | None, presented: object) -> bool:
    return (
        bool(expected)
        and isinstance(presented, str)
        and hmac.compare_digest(str(expected).encode(), presented.encode())
    )


async def checked_form(request: Request, user: CurrentUser) -> FormData:
    """The posted form, only if it returns this session's CSRF token."""
    form = await request.form()
    if not _matches(user.csrf, form.get(CSRF_FIELD)):
        raise CsrfRefused(CSRF_MESSAGE)
    return form


async def checked_login_form(request: Request) -> FormData:
    """The sign-in form, only if it returns the token of the login cookie (double submit)."""
    form = await request.form()
    if not _matches(request.cookies.get(LOGIN_COOKIE), form.get(CSRF_FIELD)):
        raise CsrfRefused(CSRF_MESSAGE)
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]
LoginForm = Annotated[FormData, Depends(checked_login_form)]


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page, with the signed-in user (if any) and the current section for the menu."""
    user: ConsoleUser | None = getattr(request.state, "console_user", None)
    html = environment.get_template(template).render(
        request_path=request.url.path, user=user, **context
    )
    return HTMLResponse(html, status_code=status_code)


def allowed(check: Callable[..., None], *args: Any) -> bool:
    """Whether an ``auth`` check passes: the UI hides what it would refuse, the service still
    refuses it (the check runs again inside every service call)."""
    try:
        check(*args)
    except GovshareError:
        return False
    return True


def form_problems(error: PydanticValidationError, labels: dict[str, str]) -> list[str]:
    """A pydantic error as lines a clerk understands: the field's Chinese label and the reason."""
    lines = []
    for problem in error.errors():
        loc = [str(part) for part in problem.get("loc", ())]
        message = str(problem.get("msg", "")).removeprefix("Value error, ")
        where = "、".join(labels.get(part, part) for part in loc if not part.isdigit())
        if loc and loc[0] == "items" and len(loc) > 1 and loc[1].isdigit():
            where = f"第 {int(loc[1]) + 1} 个信息项 " + "、".join(
                labels.get(part, part) for part in loc[2:]
            )
        lines.append(f"{where}：{message}" if where else message)
    return lines


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _sign_in_redirect(request: Request) -> Response:
    # Back to the page after signing in; a form's target cannot be replayed as a GET.
    target = request.url.path if request.method == "GET" else "/catalog"
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    location = "/login?next=" + quote(target, safe="")
    if _is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": location})
    response = RedirectResponse(location, status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


class ConsoleRoute(APIRoute):
    """A console page: security headers, session refresh, and errors as HTML pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except NotSignedIn:
                response = _sign_in_redirect(request)
            except GovshareError as error:
                response = render(
                    request,
                    "error.html",
                    status_code=error.status_code,
                    status=error.status_code,
                    message=error.message,
                )
            except (RequestValidationError, PydanticValidationError) as error:
                errors = error.errors()
                reasons = [
                    f"{'.'.join(str(p) for p in e.get('loc', ()))}: "
                    f"{str(e.get('msg', '')).removeprefix('Value error, ')}"
                    for e in errors
                ]
                response = render(
                    request,
                    "error.html",
                    status_code=422,
                    status=422,
                    message="请求参数有误 (invalid request)：" + "；".join(reasons),
                )
            except Exception:
                reference = uuid.uuid4().hex[:12]
                log.exception(
                    "console error %s on %s %s", reference, request.method, request.url.path
                )
                response = render(
                    request,
                    "error.html",
                    status_code=500,
                    status=500,
                    message=f"服务器内部错误，请联系管理员并提供错误编号 {reference}",
                )
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            user: ConsoleUser | None = getattr(request.state, "console_user", None)
            signed_out = getattr(request.state, "console_signed_out", False)
            if (
                user is not None
                and not signed_out
                and COOKIE not in response.headers.get("set-cookie", "")
            ):
                set_session_cookie(request, response, user.session)
            return response

        return console_handler


def set_session_cookie(request: Request, response: Response, session: ConsoleSession) -> None:
    """HttpOnly (no script reads it), SameSite=Lax, Secure behind HTTPS; no Max-Age: the idle
    expiry is enforced by the server from the signed last-seen time, not by the browser."""
    response.set_cookie(
        COOKIE,
        get_codec(request).encode(session),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
