"""Access tokens and the audit log: exchanging a key, usage reports, chain verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from catalog.errors import NotAuthorized
from exchange_api import audit, quotas
from exchange_api.audit import usage, usage_provider, verify_now
from exchange_api.data_schemas import AlertOut, ChainOut, TokenOut, UsageOut
from exchange_api.deps import AuditedRoute, Context, CurrentActor, ExchangeDep, KeyActor
from exchange_api.errors import responses

token_router = APIRouter(tags=["访问令牌 tokens"], route_class=AuditedRoute)
audit_router = APIRouter(prefix="/audit", tags=["审计 audit"])


@token_router.post(
    "/token",
    response_model=TokenOut,
    responses=responses(401, 429),
    summary="用访问密钥换取短期访问令牌（EdDSA 签名，默认 15 分钟；登录失败过多时 429）",
)
def issue_token(exchange: ExchangeDep, who: KeyActor) -> TokenOut:
    actor, key_id = who
    issued = exchange.tokens.issue(actor, key_id=key_id)
    return TokenOut(
        access_token=issued.token, expires_in=issued.expires_in, expires_at=issued.expires_at
    )


@token_router.get(
    "/token/public-key",
    response_class=PlainTextResponse,
    responses=responses(401),
    summary="平台签名公钥（PEM），用于核对令牌和审计日志签名",
)
def public_key(exchange: ExchangeDep, _actor: CurrentActor) -> str:
    return exchange.key.public_pem()


@audit_router.get(
    "/usage",
    response_model=list[UsageOut],
    responses=responses(401, 403, 422),
    summary="资源使用情况：提供部门查看本部门资源被谁、以何种方式使用",
)
def usage_report(
    ctx: Context,
    actor: CurrentActor,
    department: Annotated[
        str | None, Query(max_length=18, description="提供部门（审核员可指定）")
    ] = None,
) -> list[UsageOut]:
    rows = usage(ctx.session, provider_code=usage_provider(actor, department))
    return [UsageOut(**r.__dict__) for r in rows]


@audit_router.get(
    "/alerts",
    response_model=list[AlertOut],
    responses=responses(401, 403, 422),
    summary="用量异常提醒：核验或查询量超出阈值、触及上限时通知提供部门",
)
def usage_alerts(
    ctx: Context,
    actor: CurrentActor,
    department: Annotated[
        str | None, Query(max_length=18, description="提供部门（审核员可指定）")
    ] = None,
) -> list[AlertOut]:
    provider = department or actor.department_code
    if not actor.is_steward and provider != actor.department_code:
        raise NotAuthorized("只能查看本部门资源的用量提醒 (only your own resources)")
    return [
        AlertOut(
            resource_code=code,
            department_code=a.department_code,
            kind=a.kind,
            period=a.period,
            message=a.message,
            created_at=a.created_at,
        )
        for a, code in quotas.alerts(ctx.session, provider_code=provider)
    ]


@audit_router.get(
    "/verify",
    response_model=ChainOut,
    responses=responses(401, 403),
    summary="校验审计日志哈希链与签名（审核员）",
)
def verify_audit(ctx: Context, actor: CurrentActor, exchange: ExchangeDep) -> ChainOut:
    audit.verify_audit(actor)
    report = verify_now(ctx.session, exchange.key, exchange.audit.checkpoints, now=ctx.now())
    return ChainOut(**report.__dict__)
