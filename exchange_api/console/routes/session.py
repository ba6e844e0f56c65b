"""登录 / 退出: sign in with a department's (or a steward's) API key, sign out."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from catalog import keys
from exchange_api.console.routes.common import console_router, notice, see_other, unit
from exchange_api.console.sessions import COOKIE, CSRF_FIELD, LOGIN_COOKIE, new_csrf
from exchange_api.console.web import (
    CheckedForm,
    LoginForm,
    console_exchange,
    console_now,
    get_codec,
    render,
    set_session_cookie,
)
from exchange_api.exceptions import TooManySignIns
from exchange_api.tokens import looks_like_token
from infra.errors import NotAuthenticated

router = console_router()


def safe_next(target: str | None) -> str:
    r"""Only a path of this site: never another origin ("//evil", "/\evil", "https://...").

    Browsers drop tabs and newlines inside URLs ("/\t/evil" becomes "//evil") and read a
    backslash as a slash, so any control character, space or backslash refuses the target.
    """
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target)
    ):
        return "/catalog"
    return target


def _login_page(
    request: Request, *, error: str | None = None, status_code: int = 200, target: str | None = None
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_COOKIE) or new_csrf()
    response = render(
        request,
        "login.html",
        status_code=status_code,
        csrf_field=CSRF_FIELD,
        csrf=token,
        next=safe_next(target or request.query_params.get("next")),
        error=error,
        notice=notice(request),
    )
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/login",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    return response


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
def login(request: Request, form: LoginForm) -> Response:
    target = str(form.get("next") or "")
    presented = form.get("api_key")
    presented = presented.strip() if isinstance(presented, str) else ""
    if not presented or looks_like_token(presented):
        return _login_page(
            request, error="请输入部门访问密钥 gs_… (enter an API key)", status_code=401
        )
    # A limit on failed sign-ins, per client and key id, shared with POST /api/v1/token.
    signins = console_exchange(request).signins
    attempt = signins.attempt(
        client=request.client.host if request.client else None, presented=presented
    )
    try:
        signins.check(attempt)
    except TooManySignIns as refused:
        page = _login_page(request, error=refused.message, status_code=429, target=target)
        page.headers["Retry-After"] = str(refused.retry_after)
        return page
    try:
        with unit(request) as ctx:
            actor = keys.authenticate(ctx.session, presented)
    except NotAuthenticated as error:
        signins.failed(attempt)
        return _login_page(request, error=error.message, status_code=401, target=target)
    key_id = presented.split("_")[1]
    session = get_codec(request).start(actor, key_id=key_id, now=console_now(request))
    response = see_other(safe_next(target))
    set_session_cookie(request, response, session)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, _form: CheckedForm) -> Response:
    request.state.console_signed_out = True
    response = see_other("/login?done=signed_out")
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def home(request: Request) -> Response:
    signed_in = get_codec(request).decode(request.cookies.get(COOKIE), now=console_now(request))
    return see_other("/catalog" if signed_in else "/login")
