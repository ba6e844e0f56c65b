"""The one place where failures become HTTP responses.

Every error body is ``{"errorCode", "message"}`` (plus ``details`` when they are known to be
safe), as Delta Sharing does: expected errors (:class:`GovshareError`) carry a message written
for people; a malformed request is a 422 naming each field and the reason; anything unexpected
becomes ``INTERNAL_ERROR`` with a reference number, while the stack trace goes only to the
server log.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from infra.errors import GovshareError

log = logging.getLogger("govshare.exchange_api")

# Sent with every 401 (RFC 9110 §11.6.1): how a client should authenticate.
WWW_AUTHENTICATE = 'Bearer realm="govshare", charset="UTF-8"'


class FieldProblem(BaseModel):
    """One reason a request was refused, with the field it concerns."""

    field: str = Field(description="出错的字段，如 items.0.length (the field, dotted path)")
    reason: str = Field(description="原因 (why the value is refused)")
    location: str | None = Field(
        default=None, description="body / query / path / header (where the field was)"
    )


class ErrorOut(BaseModel):
    """The body of every error response."""

    errorCode: str = Field(description="机器可读的错误码 (machine-readable code)")
    message: str = Field(description="给人看的说明 (message for people)")
    details: Any = Field(default=None, description="可选的补充信息 (optional details)")


class ValidationErrorOut(ErrorOut):
    """A 422: every field the request got wrong."""

    details: list[FieldProblem] = Field(default_factory=list)


_DESCRIPTIONS = {
    401: "未认证：缺少或无效的访问凭据 (not authenticated)",
    403: "无权限：角色或部门不允许该操作 (not authorised)",
    404: "不存在 (not found)",
    409: "状态冲突：当前状态不允许该操作或对象已存在 (conflict)",
    422: "请求校验失败，details 列出字段和原因 (validation failed)",
    429: "调用过于频繁或登录失败过多，见 Retry-After (rate limit or failed sign-ins exceeded)",
    500: "内部错误 (internal error)",
    503: "数据暂不可用，可稍后重试 (data not available yet)",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the error statuses a route can answer."""
    return {
        code: {
            "model": ValidationErrorOut if code == 422 else ErrorOut,
            "description": _DESCRIPTIONS[code],
        }
        for code in codes
    }


def _error(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"errorCode": code, "message": message}
    if details is not None:
        body["details"] = details
    headers = {"WWW-Authenticate": WWW_AUTHENTICATE} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def govshare_error(request: Request, exc: Exception) -> JSONResponse:
    """Expected errors: their messages (and a client error's details) are written for callers.

    Details of a server-side error (e.g. configuration) stay in the log only. A refused or
    failed data call still names its audit entry (``X-Request-Id``), as an answered one does.
    """
    error = cast(GovshareError, exc)
    if error.status_code >= 500:
        log.error("%s: %s", error.error_code, error.message)
        response = _error(error.status_code, error.error_code, error.message)
    else:
        response = _error(error.status_code, error.error_code, error.message, error.details)
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
    call = getattr(request.state, "data_call", None)
    if call is not None:
        response.headers["X-Request-Id"] = call.request_id
    return response


def _field(loc: tuple[int | str, ...]) -> tuple[str, str | None]:
    """('body', 'items', 0, 'length') -> ('items.0.length', 'body')."""
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        location, rest = str(loc[0]), loc[1:]
    else:
        location, rest = None, loc
    return (".".join(str(part) for part in rest) or location or "request"), location


def _reason(problem: dict[str, Any]) -> str:
    message = str(problem.get("msg", "invalid"))
    # Our own validators raise ValueError, which pydantic prefixes; the rest is for people.
    return message.removeprefix("Value error, ")


async def request_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """A 422 naming each field; the submitted values are never echoed (they may be personal)."""
    error = cast(RequestValidationError, exc)
    details: list[dict[str, str | None]] = []
    for problem in error.errors():
        loc = tuple(problem.get("loc", ()))
        if problem.get("type") == "json_invalid":
            # FastAPI puts the character position where a field name would be.
            cause = (problem.get("ctx") or {}).get("error", "")
            reason = f"JSON 格式错误 (invalid JSON) at position {loc[-1]}: {cause}".strip()
            details.append({"field": "body", "reason": reason, "location": "body"})
            continue
        field, location = _field(loc)
        details.append({"field": field, "reason": _reason(problem), "location": location})
    first = details[0] if details else {"field": "request", "reason": "invalid"}
    message = f"请求校验失败 (validation failed): {first['field']}: {first['reason']}"
    if len(details) > 1:
        message += f"（另有 {len(details) - 1} 处，见 details）"
    return _error(422, "VALIDATION_ERROR", message, details)


_HTTP_CODES = {
    404: ("NOT_FOUND", "接口不存在 (no such endpoint)"),
    405: ("METHOD_NOT_ALLOWED", "该接口不支持此请求方法 (method not allowed)"),
    400: ("BAD_REQUEST", "请求格式错误 (malformed request)"),
}


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    """Routing errors (unknown path, wrong method) in the same shape as everything else."""
    error = cast(StarletteHTTPException, exc)
    code, message = _HTTP_CODES.get(error.status_code, ("HTTP_ERROR", "请求失败 (request failed)"))
    response = _error(error.status_code, code, message)
    if error.headers:
        response.headers.update(error.headers)
    return response


async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
    """Anything else: the caller gets a reference, the log gets the stack trace."""
    reference = uuid.uuid4().hex[:12]
    # The path holds resource and demand codes only; the query string is left out of the log.
    log.error(
        "unexpected error %s on %s %s",
        reference,
        request.method,
        request.url.path,
        exc_info=error,
    )
    return _error(
        500,
        "INTERNAL_ERROR",
        f"服务器内部错误，请联系管理员并提供错误编号 {reference} "
        f"(internal error, reference {reference})",
    )


def install(app: FastAPI) -> None:
    """Register the handlers; the catch-all one runs in Starlette's outermost middleware."""
    app.add_exception_handler(GovshareError, govshare_error)
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
