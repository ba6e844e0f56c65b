"""Data routes (可用不可见): profiles, 核验, aggregates and extracts, with access tokens.

Every route declares its purpose (``X-Purpose`` or ``?purpose=``), is authorised against a
grant in its service function, and is written to the signed audit log whatever the outcome.
"""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse

from exchange_api import aggregates, extracts, profiles, verification
from exchange_api.data_schemas import (
    AggregateIn,
    AggregateOut,
    BatchIn,
    BatchOut,
    IdentityCheckIn,
    LicenceCheckIn,
    LookupIn,
    PersonCheckIn,
    ProfileOut,
    VerificationOut,
)
from exchange_api.deps import AuditedRoute, Call, ExchangeDep, token_actor
from exchange_api.errors import responses

router = APIRouter(dependencies=[Depends(token_actor)], route_class=AuditedRoute)

DATA_ERRORS = (401, 403, 404, 422, 429, 503)
KeyPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=40,
        description="统一社会信用代码（enterprise）或身份证号（person）",
    ),
]
ThemePath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=40,
        pattern=r"^[a-z][a-z0-9_-]*$",
        description="主题代码，由数据管理机构在目录中定义，如 enterprise、person (theme code)",
    ),
]
Fields = Annotated[
    str | None,
    Query(max_length=2000, description="逗号分隔的字段名，缺省为授权的全部字段"),
]


def _fields(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [f.strip() for f in text.split(",") if f.strip()] or None


@router.get(
    "/themes/{theme}/profiles/{key}",
    response_model=ProfileOut,
    responses=responses(*DATA_ERRORS),
    tags=["主题档案 profiles"],
    summary="一企一档 / 一人一档：按统一社会信用代码或身份证号查询档案（授权字段，默认脱敏）；"
    "建议改用 POST .../profiles/lookup，主体代码不进入网址",
)
def get_profile(
    exchange: ExchangeDep, call: Call, theme: ThemePath, key: KeyPath, fields: Fields = None
) -> ProfileOut:
    batch = profiles.lookup(
        exchange, call, theme=theme, keys=[key], fields=_fields(fields), single=True
    )
    return batch.data[0].model_copy(update={"evidence": batch.evidence})


@router.post(
    "/themes/{theme}/profiles/lookup",
    response_model=ProfileOut,
    responses=responses(*DATA_ERRORS),
    tags=["主题档案 profiles"],
    summary="查询一个主体的档案，主体代码放在请求体中（不进入网址和访问日志）",
)
def lookup_profile(
    exchange: ExchangeDep, call: Call, theme: ThemePath, body: LookupIn
) -> ProfileOut:
    batch = profiles.lookup(
        exchange, call, theme=theme, keys=[body.key], fields=body.fields, single=True,
        key_location="body",
    )  # fmt: skip
    return batch.data[0].model_copy(update={"evidence": batch.evidence})


@router.post(
    "/themes/{theme}/profiles/batch",
    response_model=BatchOut,
    responses=responses(*DATA_ERRORS),
    tags=["主题档案 profiles"],
    summary="批量查询档案，最多 1000 个主体，结果与 keys 顺序对应",
)
def batch_profiles(exchange: ExchangeDep, call: Call, theme: ThemePath, body: BatchIn) -> BatchOut:
    return profiles.lookup(
        exchange, call, theme=theme, keys=body.keys, fields=body.fields, single=False
    )


@router.post(
    "/verify/identity",
    response_model=VerificationOut,
    responses=responses(*DATA_ERRORS),
    tags=["核验 verification"],
    summary="身份核验：身份证号与姓名是否一致（只回答是或否）",
)
def verify_identity(exchange: ExchangeDep, call: Call, body: IdentityCheckIn) -> VerificationOut:
    return verification.verify_identity(exchange, call, body)


@router.post(
    "/verify/person",
    response_model=VerificationOut,
    responses=responses(*DATA_ERRORS),
    tags=["核验 verification"],
    summary="人员状态核验：目录定义的核验事项，如是否在世 / 已婚 / 参保（只回答是或否）",
)
def verify_person(exchange: ExchangeDep, call: Call, body: PersonCheckIn) -> VerificationOut:
    return verification.verify_person(exchange, call, body)


@router.post(
    "/verify/licence",
    response_model=VerificationOut,
    responses=responses(*DATA_ERRORS),
    tags=["核验 verification"],
    summary="证照核验（免证办）：企业今天是否持有该类型的有效证照",
)
def verify_licence(exchange: ExchangeDep, call: Call, body: LicenceCheckIn) -> VerificationOut:
    return verification.verify_licence(exchange, call, body)


@router.post(
    "/aggregates",
    response_model=AggregateOut,
    responses=responses(*DATA_ERRORS),
    tags=["统计 aggregates"],
    summary="统计查询：计数、求和、平均，按允许的维度分组；小于 k 的分组隐去，个人数据加噪",
)
def run_aggregate(exchange: ExchangeDep, call: Call, body: AggregateIn) -> AggregateOut:
    return aggregates.aggregate(exchange, call, body)


@router.get(
    "/extracts/{code:path}",
    responses={
        200: {
            "description": "数据流 (Parquet, Arrow IPC stream or CSV)",
            "content": {media: {} for media in extracts.MEDIA_TYPES.values()},
        },
        **responses(*DATA_ERRORS),
    },
    response_class=StreamingResponse,
    tags=["批量导出 extracts"],
    summary="无条件共享资源批量导出：Parquet / Arrow / CSV 流式下载（授权字段，按授权脱敏）",
)
def get_extract(
    exchange: ExchangeDep,
    call: Call,
    code: str,
    format: extracts.ExtractFormat = extracts.ExtractFormat.PARQUET,
    fields: Fields = None,
) -> StreamingResponse:
    prepared = extracts.extract(exchange, call, code=code, fmt=format, fields=_fields(fields))
    disposition = f"attachment; filename*=UTF-8''{quote(prepared.filename)}"
    headers = {"Content-Disposition": disposition, "X-Request-Id": call.request_id}
    if prepared.withheld:
        # Headers are Latin-1: the {column: reason} map travels as percent-encoded UTF-8 JSON.
        headers["X-Withheld-Fields"] = quote(json.dumps(prepared.withheld, ensure_ascii=False))
    return StreamingResponse(prepared.chunks, media_type=prepared.media_type, headers=headers)
