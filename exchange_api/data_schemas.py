"""Request and response shapes of the data endpoints (profiles, 核验, aggregates, tokens).

Requests are strict (no coercion of ``"1"`` to a number, unknown fields refused) because a
lax edge lets malformed queries through to the privacy checks.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

IdText = Annotated[StrictStr, Field(min_length=1, max_length=40)]
FieldName = Annotated[StrictStr, Field(min_length=1, max_length=100)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TokenOut(BaseModel):
    access_token: str = Field(description="EdDSA 签名的短期访问令牌 (short-lived signed token)")
    token_type: str = "Bearer"
    expires_in: int = Field(description="有效秒数 (seconds)")
    expires_at: datetime


class Evidence(BaseModel):
    """Where this answer is recorded in the signed audit log (审计凭证)."""

    audit_seq: int
    entry_hash: str
    request_id: str
    at: datetime


class FieldValue(BaseModel):
    """One field of a profile with its 一数一源 provenance."""

    value: Any = Field(description="值；脱敏字段为掩码后的文本 (masked text when masked)")
    masked: bool = Field(description="不是原值：已脱敏或已泛化 (not the stored value)")
    source: str | None = Field(description="权威来源信息资源代码 (authoritative source)")
    as_of: datetime | None = Field(description="来源数据时间 (as-of time of the value)")
    generalised: str | None = Field(
        default=None,
        description="已泛化时的方式：year 出生年份、age_band 年龄段 (how it was generalised)",
    )
    note: str | None = Field(default=None, description="为何泛化 (why it was generalised)")


class ProfileOut(BaseModel):
    theme: str
    found: bool
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    withheld: dict[str, str] = Field(
        default_factory=dict,
        description="未提供的授权字段及原因，如按脱敏授权的婚姻状况 (fields left out, why)",
    )
    table_version: int | None = None
    evidence: Evidence | None = None


class BatchIn(_In):
    keys: Annotated[list[IdText], Field(min_length=1, max_length=1000)]
    fields: Annotated[list[FieldName], Field(max_length=100)] | None = None


class LookupIn(_In):
    """One key in the body, so that no identifier travels in a URL (and into access logs)."""

    key: IdText = Field(description="统一社会信用代码（enterprise）或身份证号（person）")
    fields: Annotated[list[FieldName], Field(max_length=100)] | None = None


class BatchOut(BaseModel):
    theme: str
    data: list[ProfileOut] = Field(description="与请求 keys 顺序一一对应 (same order as keys)")
    count: int
    found: int
    evidence: Evidence | None = None


class CheckCase(_In):
    """A 核验 answers a question about one subject in one business case: both are named."""

    case_ref: Annotated[StrictStr, Field(min_length=1, max_length=64)] = Field(
        description="办件编号：本次核验所属的办件 (case reference)"
    )
    business_matter: Annotated[StrictStr, Field(min_length=1, max_length=200)] = Field(
        description="业务事项：办件所办理的政务服务事项 (business matter)"
    )


class IdentityCheckIn(CheckCase):
    """身份核验: does this ID number belong to a person of this name?"""

    id_number: IdText
    name: Annotated[StrictStr, Field(min_length=1, max_length=50)]


class PersonCheckIn(CheckCase):
    """人员状态核验: is the person alive / married / insured (参保缴费) today?

    ``check`` names a 核验事项 the catalogue defines (the demo: alive, married, insured).
    """

    id_number: IdText
    check: Annotated[
        StrictStr,
        Field(
            min_length=1,
            max_length=40,
            pattern=r"^[a-z][a-z0-9_-]*$",
            description="核验事项，如 alive、married、insured (a check defined in the catalogue)",
        ),
    ]


class LicenceCheckIn(CheckCase):
    """证照核验 (免证办): does the enterprise hold a licence of this type, valid today?"""

    uscc: IdText
    licence_type: Annotated[StrictStr, Field(min_length=1, max_length=50)]


class VerificationOut(BaseModel):
    """Yes or no, and the audit evidence; never the record itself."""

    check: str
    result: bool
    evidence: Evidence


class Op(StrEnum):
    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"


class Dimension(StrEnum):
    """Allowed grouping dimensions (whitelist; nothing else reaches SQL)."""

    REGION = "region"
    CITY = "city"
    INDUSTRY = "industry"
    SEX = "sex"
    AGE_BAND = "age_band"
    ENTERPRISE_STATUS = "enterprise_status"
    INSURANCE_STATUS = "insurance_status"
    MARITAL_STATUS = "marital_status"
    CREDIT_GRADE = "credit_grade"
    LICENCE_TYPE = "licence_type"


class MeasureIn(_In):
    op: Op
    field: FieldName | None = Field(default=None, description="sum/mean 的数值字段")
    lower: StrictFloat | StrictInt | None = Field(
        default=None, description="敏感度量的截断下界（差分隐私需要）(clamp bound)"
    )
    upper: StrictFloat | StrictInt | None = None


class AggregateIn(_In):
    resource_code: Annotated[StrictStr, Field(min_length=3, max_length=64)]
    measures: Annotated[list[MeasureIn], Field(min_length=1, max_length=5)]
    group_by: Annotated[list[Dimension], Field(max_length=3)] = Field(default_factory=list)
    filters: dict[Dimension, Annotated[StrictStr, Field(max_length=20)]] = Field(
        default_factory=dict
    )


class GroupOut(BaseModel):
    dimensions: dict[str, str | None]
    values: dict[str, float | int | str | None]


class AggregateOut(BaseModel):
    resource_code: str
    groups: list[GroupOut]
    suppressed_groups: int | None = Field(
        description="隐去的分组数（小于 k 及为防差分推算而补充隐去的）；加噪结果不报告，"
        "以免泄露真实的非空分组数 (cells suppressed; null for noised answers)"
    )
    k: int
    noise: str | None = Field(description="差分隐私机制 (e.g. laplace ε=0.5)，无则为 null")
    privacy_unit: str | None = Field(
        default=None, description="隐私预算所属的隐私单元 (e.g. person)；不加噪时为 null"
    )
    contribution_bound: int | None = Field(
        default=None, description="加噪时每人最多计入的记录数，噪声按此校准 (rows per person)"
    )
    epsilon_spent: float
    budget_remaining: float | None
    repeated: bool = Field(description="与此前相同的查询：返回同一结果，不再消耗预算")
    table_version: int
    evidence: Evidence


class UsageOut(BaseModel):
    resource_code: str
    department_code: str
    endpoint: str
    outcome: str
    requests: int
    rows: int
    last_at: datetime


class AlertOut(BaseModel):
    """A notice to a provider about abnormal use of one of its resources (用量异常提醒)."""

    resource_code: str
    department_code: str = Field(description="使用方部门 (the consumer)")
    kind: str
    period: str
    message: str
    created_at: datetime


class ChainOut(BaseModel):
    entries: int
    ok: bool
    first_broken_seq: int | None
    problem: str | None
    head_hash: str
