"""质检 routes: stewards manage a resource's rules and threshold; providers read reports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from exchange_api.deps import Context, CurrentActor, Today
from exchange_api.errors import responses
from quality import gate, report, service

router = APIRouter(prefix="/quality", tags=["质检 quality"])

ResourceCode = Annotated[str, Path(max_length=64, description="信息资源代码 (resource code)")]
RuleId = Annotated[int, Path(ge=1, le=2**31 - 1, description="规则编号 (rule id)")]
BatchId = Annotated[str, Path(max_length=64, description="批次号 (batch id)")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RuleIn(_In):
    """A steward rule: a whitelisted kind and its parameters (values only, never SQL)."""

    item: Annotated[str, Field(min_length=1, max_length=100)]
    kind: Literal["not_null", "between", "in_set", "not_in_set", "regex", "length", "unique"]
    params: dict[str, Any] = Field(default_factory=dict)
    label: Annotated[str, Field(max_length=200)] = ""


class ProfileIn(_In):
    """A resource's threshold, one item's code list or format, reference checks on or off."""

    threshold: Annotated[float | None, Field(ge=0, le=1, strict=True)] = None
    item: Annotated[str | None, Field(max_length=100)] = None
    codes: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = None
    pattern: Annotated[str | None, Field(min_length=1, max_length=300)] = None
    references: StrictBool | None = None


class DecisionIn(_In):
    reason: Annotated[str, Field(max_length=1000)] = ""


class RuleOut(BaseModel):
    id: str
    kind: str
    item: str
    label: str
    origin: str
    expectation: str
    kwargs: dict[str, Any]


class RulesOut(BaseModel):
    threshold: float
    data: list[RuleOut]
    count: int


PENDING = "pending"


class OrderOut(BaseModel):
    action: str
    batch_id: str
    resource_code: str
    table: str
    rows_to_publish: int
    rows_quarantined: int
    lake_side: str = Field(
        description="湖仓侧执行状态：pending 表示由放行流程 (govshare_gate_orders)、下次入库或 "
        "govshare quality apply 完成 (the lake side is carried out asynchronously)"
    )


@router.get(
    "/resources/{resource_code:path}/rules",
    response_model=RulesOut,
    responses=responses(401, 403, 404, 422),
    summary="资源的全部质检规则 (all rules of a resource: generated, steward, references)",
)
def list_rules(
    ctx: Context, actor: CurrentActor, today: Today, resource_code: ResourceCode
) -> RulesOut:
    ruleset = service.rules_of(ctx, resource_code=resource_code, actor=actor, today=today)
    rules = [RuleOut(**r) for r in ruleset.describe()]
    return RulesOut(threshold=ruleset.threshold, data=rules, count=len(rules))


@router.post(
    "/resources/{resource_code:path}/rules",
    status_code=201,
    responses=responses(401, 403, 404, 422),
    summary="添加审核员规则 (steward: add a rule)",
)
def add_rule(
    ctx: Context, actor: CurrentActor, resource_code: ResourceCode, spec: RuleIn
) -> dict[str, Any]:
    rule = service.add_rule(
        ctx,
        resource_code=resource_code,
        item=spec.item,
        kind=spec.kind,
        params=spec.params,
        label=spec.label,
        actor=actor,
    )
    return service.rule_out(rule)


@router.delete(
    "/rules/{rule_id}",
    status_code=204,
    responses=responses(401, 403, 404, 422),
    summary="停用审核员规则 (steward: retire a rule)",
)
def remove_rule(ctx: Context, actor: CurrentActor, rule_id: RuleId) -> None:
    service.remove_rule(ctx, rule_id=rule_id, actor=actor)


@router.put(
    "/resources/{resource_code:path}/profile",
    responses=responses(401, 403, 404, 422),
    summary="设置阈值、代码表与格式 (steward: threshold, code lists, formats)",
)
def set_profile(
    ctx: Context, actor: CurrentActor, resource_code: ResourceCode, spec: ProfileIn
) -> dict[str, Any]:
    saved = service.set_profile(
        ctx,
        resource_code=resource_code,
        actor=actor,
        threshold=spec.threshold,
        item=spec.item,
        codes=spec.codes,
        pattern=spec.pattern,
        references_enabled=spec.references,
    )
    return {
        "threshold": saved.threshold,
        "item_standards": saved.item_standards,
        "references": saved.references,
    }


@router.get(
    "/resources/{resource_code:path}/report",
    responses=responses(401, 403, 404, 422),
    summary="质检报告 (per-batch pass rates, counts per rule, masked samples)",
)
def quality_report(
    ctx: Context, actor: CurrentActor, today: Today, resource_code: ResourceCode
) -> Any:
    return report.report(ctx, resource_code=resource_code, actor=actor, today=today)


@router.get(
    "/pass-rates",
    responses=responses(401, 403, 422),
    summary="质检入库率随时间变化 (steward: pass rates by resource, department, overall)",
)
def pass_rates(ctx: Context, actor: CurrentActor) -> Any:
    return report.series(ctx, actor=actor)


@router.post(
    "/batches/{batch_id}/release",
    response_model=OrderOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="放行暂缓入库的批次 (steward: release a held batch)",
)
def release(
    ctx: Context,
    actor: CurrentActor,
    batch_id: BatchId,
    body: DecisionIn,
) -> OrderOut:
    """Only the decision commits with the request: the API never starts a lake job. The
    staged rows reach the validated table through the ``govshare_gate_orders`` DAG (every five
    minutes), the resource's next ingest or ``govshare quality apply``; a lake side that fails
    stays pending and is retried, so the batch is never stuck under a recorded release."""
    order = gate.release(ctx, batch_id=batch_id, actor=actor, reason=body.reason)
    return OrderOut(**order.__dict__, lake_side=PENDING)


@router.post(
    "/batches/{batch_id}/reject",
    response_model=OrderOut,
    responses=responses(401, 403, 404, 409, 422),
    summary="退回暂缓入库的批次 (steward: reject a held batch)",
)
def reject(
    ctx: Context,
    actor: CurrentActor,
    batch_id: BatchId,
    body: DecisionIn,
) -> OrderOut:
    """Recorded at once; the staged rows are discarded by the lake side later (see release)."""
    order = gate.reject(ctx, batch_id=batch_id, actor=actor, reason=body.reason)
    return OrderOut(**order.__dict__, lake_side=PENDING)
