"""Delta Sharing REST protocol under ``/delta-sharing`` (PROTOCOL.md of delta-io/delta-sharing).

Authenticated with a department credential as ``Authorization: Bearer gs_…`` (the token of a
profile file, ``govshare sharing profile``); file downloads carry their own signature instead.
Every call, allowed or refused, reaches the audit log.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, Security
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field

from catalog import keys
from catalog.context import Actor
from exchange_api import sharing
from exchange_api.deps import MISSING_CREDENTIALS, AuditedRoute, ExchangeDep, bearer, route_endpoint
from exchange_api.errors import responses
from exchange_api.file_response import SharedFileResponse
from exchange_api.runtime import DataCall
from infra.errors import NotAuthenticated

SHARING_PREFIX = "/delta-sharing"
VERSION_HEADER = "delta-table-version"
NDJSON = "application/x-ndjson; charset=utf-8"
CAPABILITIES = "delta-sharing-capabilities"
ERRORS = responses(401, 403, 404, 422)

router = APIRouter(prefix=SHARING_PREFIX, route_class=AuditedRoute, tags=["Delta Sharing"])

Name = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")]


def _call(request: Request, actor: Actor | None, purpose: str) -> DataCall:
    call = DataCall(
        actor=actor or Actor.department(""),
        purpose=purpose,
        endpoint=route_endpoint(request),
        request_id=uuid.uuid4().hex,
    )
    request.state.data_call = call
    return call


def sharing_call(
    request: Request,
    exchange: ExchangeDep,
    authorization: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> DataCall:
    """The department a profile's bearer token speaks for (a revocable API key)."""
    if authorization is None:
        raise NotAuthenticated(MISSING_CREDENTIALS)
    with exchange.catalog.unit() as ctx:
        actor = keys.authenticate(ctx.session, authorization.credentials)
    request.state.actor = actor
    return _call(request, actor, sharing.LISTING_PURPOSE)


SharingCall = Annotated[DataCall, Depends(sharing_call)]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + SHARING_PREFIX


def wants_delta(request: Request) -> bool:
    """Whether the client asked for the ``delta`` response format only.

    The Python connector's auto-resolution offers ``responseformat=delta,parquet``; parquet is
    then the answer (every connector reads it). ``use_delta_format=True`` and Spark's connector
    ask for ``delta`` alone, and get Delta actions.
    """
    header = request.headers.get(CAPABILITIES, "")
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "responseformat":
            formats = {v.strip().lower() for v in value.split(",")}
            return "delta" in formats and "parquet" not in formats
    return False


def _ndjson(version: int, lines: list[dict[str, Any]], *, delta: bool = False) -> StreamingResponse:
    def body() -> Iterator[bytes]:
        for line in lines:
            yield (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")

    return StreamingResponse(
        body(),
        media_type=NDJSON,
        headers={
            VERSION_HEADER: str(version),
            CAPABILITIES: f"responseformat={'delta' if delta else 'parquet'}",
        },
    )


@router.get("/shares", responses=ERRORS, summary="列出本部门的共享 (list shares)")
def list_shares(
    exchange: ExchangeDep,
    call: SharingCall,
    maxResults: Annotated[int | None, Query(ge=0, le=1000)] = None,
    pageToken: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    return sharing.list_shares(exchange, call)


@router.get("/shares/{share}", responses=ERRORS, summary="共享详情 (get share)")
def get_share(exchange: ExchangeDep, call: SharingCall, share: Name) -> dict[str, Any]:
    return sharing.get_share(exchange, call, share=share)


@router.get("/shares/{share}/schemas", responses=ERRORS, summary="列出库 (list schemas)")
def list_schemas(
    exchange: ExchangeDep,
    call: SharingCall,
    share: Name,
    maxResults: Annotated[int | None, Query(ge=0, le=1000)] = None,
    pageToken: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    return sharing.list_schemas(exchange, call, share=share)


@router.get(
    "/shares/{share}/schemas/{schema}/tables", responses=ERRORS, summary="列出表 (list tables)"
)
def list_tables(
    exchange: ExchangeDep,
    call: SharingCall,
    share: Name,
    schema: Name,
    maxResults: Annotated[int | None, Query(ge=0, le=1000)] = None,
    pageToken: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    return sharing.list_tables(exchange, call, share=share, schema=schema)


@router.get("/shares/{share}/all-tables", responses=ERRORS, summary="列出全部表 (all tables)")
def list_all_tables(
    exchange: ExchangeDep,
    call: SharingCall,
    share: Name,
    maxResults: Annotated[int | None, Query(ge=0, le=1000)] = None,
    pageToken: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    return sharing.list_tables(exchange, call, share=share)


VERSION_PATH = "/shares/{share}/schemas/{schema}/tables/{table}/version"


@router.head(VERSION_PATH, responses=ERRORS, operation_id="delta_sharing_table_version_head")
@router.get(
    VERSION_PATH,
    responses=ERRORS,
    operation_id="delta_sharing_table_version",
    summary="表的当前版本 (query table version)",
)
def table_version(
    exchange: ExchangeDep,
    call: SharingCall,
    share: Name,
    schema: Name,
    table: Name,
    startingTimestamp: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    version = sharing.table_version(
        exchange, call, share=share, schema=schema, name=table,
        starting_timestamp=startingTimestamp,
    )  # fmt: skip
    return Response(status_code=200, headers={VERSION_HEADER: str(version)})


@router.get(
    "/shares/{share}/schemas/{schema}/tables/{table}/metadata",
    responses=ERRORS,
    response_class=StreamingResponse,
    summary="表的结构（授权字段，脱敏后的类型） (query table metadata)",
)
def table_metadata(
    request: Request,
    exchange: ExchangeDep,
    call: SharingCall,
    share: Name,
    schema: Name,
    table: Name,
) -> StreamingResponse:
    delta = wants_delta(request)
    version, lines = sharing.metadata(
        exchange, call, share=share, schema=schema, name=table, delta=delta
    )
    return _ndjson(version, lines, delta=delta)


class QueryIn(BaseModel):
    """The query body. Predicate hints skip files whose statistics rule a match out; a hint
    that cannot be read keeps every file (they are only hints: the client filters rows)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    predicateHints: list[str] | None = Field(default=None, max_length=100)
    jsonPredicateHints: str | None = Field(default=None, max_length=100_000)
    limitHint: int | None = Field(default=None, ge=0)
    version: int | None = Field(default=None, ge=0)
    timestamp: str | None = None


@router.post(
    "/shares/{share}/schemas/{schema}/tables/{table}/query",
    responses=ERRORS,
    response_class=StreamingResponse,
    summary="查询表：返回脱敏文件的签名链接 (query table, parquet format)",
)
def query_table(
    request: Request,
    exchange: ExchangeDep,
    call: SharingCall,
    share: Name,
    schema: Name,
    table: Name,
    body: QueryIn | None = None,
) -> StreamingResponse:
    body = body or QueryIn()
    if body.timestamp is not None and body.version is not None:
        raise sharing.SharingBadParameter("version 与 timestamp 只能给一个 (give one, not both)")
    delta = wants_delta(request)
    version, lines = sharing.query(
        exchange, call, share=share, schema=schema, name=table, base=_base(request),
        version=body.version, timestamp=body.timestamp, limit_hint=body.limitHint,
        delta=delta, json_hints=body.jsonPredicateHints, sql_hints=body.predicateHints,
    )  # fmt: skip
    return _ndjson(version, lines, delta=delta)


@router.get(
    "/shares/{share}/schemas/{schema}/tables/{table}/changes",
    responses=ERRORS,
    response_class=StreamingResponse,
    summary="读取变更数据 (read change data feed; derived by comparing masked versions)",
)
def table_changes(
    request: Request,
    exchange: ExchangeDep,
    call: SharingCall,
    share: Name,
    schema: Name,
    table: Name,
    startingVersion: Annotated[int | None, Query(ge=0)] = None,
    startingTimestamp: Annotated[str | None, Query(max_length=64)] = None,
    endingVersion: Annotated[int | None, Query(ge=0)] = None,
    endingTimestamp: Annotated[str | None, Query(max_length=64)] = None,
    includeHistoricalMetadata: Annotated[bool | None, Query()] = None,
) -> StreamingResponse:
    """Parquet response format only: ``add`` lines for version 0, ``cdf`` lines (masked
    rows with ``_change_type``) for later versions; the header names the starting version."""
    start, lines = sharing.changes(
        exchange, call, share=share, schema=schema, name=table, base=_base(request),
        starting_version=startingVersion, starting_timestamp=startingTimestamp,
        ending_version=endingVersion, ending_timestamp=endingTimestamp,
    )  # fmt: skip
    return _ndjson(start, lines)


@router.head(
    "/files/{path:path}",
    responses=responses(403, 404, 422),
    response_class=SharedFileResponse,
    operation_id="delta_sharing_file_head",
)
@router.get(
    "/files/{path:path}",
    operation_id="delta_sharing_file",
    responses=responses(403, 404, 422),
    response_class=SharedFileResponse,
    summary="下载脱敏文件（签名链接，15 分钟有效） (signed file download)",
)
def get_file(
    request: Request,
    exchange: ExchangeDep,
    path: str,
    exp: Annotated[int, Query()],
    sig: Annotated[str, Query(min_length=64, max_length=64)],
    q: Annotated[str, Query(max_length=32, pattern=r"^[0-9a-f]*$")] = "",
) -> SharedFileResponse:
    call = _call(request, None, "")
    client = request.client.host if request.client else ""
    found = sharing.open_file(
        exchange, call, path=path, expires=exp, issued=q, signature=sig, client=client
    )
    return SharedFileResponse(found, media_type="application/vnd.apache.parquet")
