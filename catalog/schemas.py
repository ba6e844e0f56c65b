"""Input and output shapes of catalogue operations, shared by the API, the CLI and the importer.

Numbers and booleans are strict so that ``false`` is never read as 0 and ``"1"`` never as a
count; enums accept their Chinese value, which is what stewards type.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator
from pydantic.functional_validators import AfterValidator, BeforeValidator

from catalog.domain import (
    DataLevel,
    DataType,
    DemandState,
    FieldAccess,
    KeyKind,
    MountKind,
    MountState,
    ResourceClass,
    ResourceState,
    Role,
    Sensitivity,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from catalog.identifiers import region_problem, uscc_problem


def _check(problem: Any) -> Any:
    def validator(value: str) -> str:
        message = problem(value)
        if message:
            raise ValueError(message)
        return value

    return AfterValidator(validator)


def _strip(value: str) -> str:
    return value.strip()


Text = Annotated[str, AfterValidator(_strip)]
Name = Annotated[str, AfterValidator(_strip), Field(min_length=1, max_length=200)]
USCC = Annotated[str, AfterValidator(_strip), _check(uscc_problem)]
RegionCode = Annotated[str, AfterValidator(_strip), _check(region_problem)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DepartmentIn(_In):
    code: USCC
    name: Name
    short_name: str | None = None
    region_code: RegionCode
    parent_code: USCC | None = None
    is_data_authority: StrictBool = False


class DutyIn(_In):
    code: Annotated[str, Field(min_length=1, max_length=40)]
    department_code: USCC
    name: Name
    description: Text = ""
    data_items: list[Name] = Field(default_factory=list)


def _data_type(value: Any) -> Any:
    return DataType.parse(value) if isinstance(value, str) else value


class DataItemIn(_In):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    data_type: Annotated[DataType, BeforeValidator(_data_type)]
    length: Annotated[StrictInt, Field(gt=0, le=100_000)] | None = None
    required: StrictBool = False
    is_key: StrictBool = False
    sensitivity: Sensitivity = Sensitivity.GENERAL
    mask_kind: str | None = None
    authoritative: StrictBool = False
    description: Text = ""


class ResourceIn(_In):
    """A catalogue entry as a provider writes it; the code is checked against the settings."""

    code: Annotated[str, Field(min_length=3, max_length=64)]
    name: Name
    classification: ResourceClass
    category: Text = ""
    provider_code: USCC
    summary: Text = ""
    format: Text = "数据库"
    share_type: ShareType
    share_condition: Text = ""
    not_shared_basis: Text = ""
    # Blank stays blank only for 不予共享 (nothing is shared, so no method); otherwise 接口.
    share_method: ShareMethod | None = None
    open_to_public: StrictBool = False
    open_condition: Text = ""
    update_cycle: UpdateCycle
    publish_date: date | None = None
    related_codes: list[str] = Field(default_factory=list)
    duty_code: str | None = None
    business_matter: Text = ""
    scenario: Text = ""
    data_level: DataLevel = DataLevel.GENERAL
    items: list[DataItemIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _share_rules(self) -> Self:
        if self.share_method is None and self.share_type is not ShareType.NOT_SHARED:
            self.share_method = ShareMethod.API
        if self.share_type is ShareType.CONDITIONAL and not self.share_condition:
            raise ValueError("有条件共享的资源必须填写共享条件 (share_condition required)")
        if self.share_type is ShareType.NOT_SHARED and not self.not_shared_basis:
            raise ValueError("不予共享的资源必须填写法律法规或政策依据 (not_shared_basis required)")
        names = [item.name for item in self.items]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"信息项名称重复 (duplicate data items): {'、'.join(duplicates)}")
        return self


class MountIn(_In):
    kind: MountKind
    target: Annotated[str, Field(min_length=1, max_length=500)]
    config: dict[str, Any] = Field(default_factory=dict)


class DemandIn(_In):
    """A 共享需求: either names the resource wanted or only the data items (then it is routed)."""

    resource_code: str | None = None
    wanted_items: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    raw_requested: list[str] = Field(default_factory=list)
    purpose: Name
    legal_basis: Annotated[str, Field(min_length=1)]
    business_matter: Text = ""
    scenario: Text = ""

    @model_validator(mode="after")
    def _raw_within_wanted(self) -> Self:
        extra = sorted(set(self.raw_requested) - set(self.wanted_items))
        if extra:
            raise ValueError(f"申请原文的信息项不在需求范围内 (raw_requested not wanted): {extra}")
        return self


class DemandDecisionIn(_In):
    """A provider's answer to a conditional demand."""

    approve: StrictBool
    reason: Text = ""
    raw_fields: list[str] = Field(default_factory=list)
    valid_days: Annotated[StrictInt, Field(gt=0, le=3650)] | None = None

    @model_validator(mode="after")
    def _refusal_needs_reason(self) -> Self:
        if not self.approve and not self.reason:
            raise ValueError("拒绝共享必须说明理由 (a refusal needs a reason)")
        return self


class ReviewIn(_In):
    """A steward's decision on a resource or a mount."""

    approve: StrictBool
    reason: Text = ""

    @model_validator(mode="after")
    def _return_needs_reason(self) -> Self:
        if not self.approve and not self.reason:
            raise ValueError("退回必须说明理由 (a return needs a reason)")
        return self


# A theme's or a 核验's name in URLs and requests: short, lower case, no spaces.
Slug = Annotated[
    str, AfterValidator(_strip), Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_-]*$")
]
ParamValue = str | list[str]


class DerivedFieldIn(_In):
    """A theme field computed by a rule of the registry (``catalog.themes.DERIVED_RULES``)."""

    field: Annotated[str, Field(min_length=1, max_length=100)]
    rule: Annotated[str, Field(min_length=1, max_length=40)]
    sources: list[Annotated[str, Field(min_length=3, max_length=64)]] = Field(default_factory=list)
    links: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list)
    params: dict[str, ParamValue] = Field(default_factory=dict)


class ThemeIn(_In):
    """A theme as a steward defines it; ``derived`` None keeps the derived fields defined."""

    code: Slug
    name: Name
    resource_code: Annotated[str, Field(min_length=3, max_length=64)]
    key_kind: KeyKind
    population_code: str | None = None
    description: Text = ""
    derived: list[DerivedFieldIn] | None = None

    @model_validator(mode="after")
    def _unique_fields(self) -> Self:
        names = [d.field for d in self.derived or []]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"派生字段重复 (duplicate derived fields): {'、'.join(duplicates)}")
        return self


class VerificationIn(_In):
    """核验事项: a check answered from a theme (by its key) or from a resource (licences)."""

    check: Slug
    name: Name
    theme_code: str | None = None
    resource_code: str | None = None
    fields: dict[str, Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=dict
    )
    yes_values: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        if self.theme_code is None and self.resource_code is None:
            raise ValueError("核验事项应指定主题或信息资源 (give theme_code or resource_code)")
        return self


# ---- public shapes ---------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DepartmentOut(_Out):
    code: str
    name: str
    short_name: str | None
    region_code: str
    parent_code: str | None
    is_data_authority: bool


class DutyOut(_Out):
    code: str
    department_code: str
    name: str
    description: str
    data_items: list[str]


class DataItemOut(_Out):
    name: str
    data_type: DataType
    length: int | None
    required: bool
    is_key: bool
    sensitivity: Sensitivity
    mask_kind: str | None
    authoritative: bool
    description: str


class MountOut(_Out):
    id: int
    resource_code: str
    kind: MountKind
    target: str
    config: dict[str, Any]
    state: MountState
    pending_target: str | None
    pending_config: dict[str, Any] | None
    last_refreshed_at: datetime | None
    review_note: str


class ResourceOut(_Out):
    code: str
    name: str
    classification: ResourceClass
    category: str
    provider_code: str
    provider_name: str
    summary: str
    format: str
    share_type: ShareType
    share_condition: str
    not_shared_basis: str
    share_method: ShareMethod | None
    open_to_public: bool
    open_condition: str
    update_cycle: UpdateCycle
    publish_date: date | None
    related_codes: list[str]
    duty_code: str | None
    business_matter: str
    scenario: str
    data_level: DataLevel
    state: ResourceState
    version: int
    items: list[DataItemOut]
    mounts: list[MountOut] = Field(default_factory=list)


class GrantOut(_Out):
    id: int
    department_code: str
    resource_code: str
    fields: dict[str, FieldAccess]
    purpose: str
    expires_at: datetime
    rate_limit_per_minute: int
    revoked_at: datetime | None
    revoke_reason: str = ""


class DemandOut(_Out):
    code: str
    requester_code: str
    provider_code: str | None
    resource_code: str | None
    wanted_items: list[str]
    raw_requested: list[str]
    purpose: str
    legal_basis: str
    business_matter: str
    scenario: str
    state: DemandState
    submitted_at: datetime
    due_date: date | None
    # The due date was counted across days no published holiday arrangement covers yet
    # (暂定): it may move when the State Council's notice is imported.
    due_provisional: bool = False
    overdue: bool
    decided_at: datetime | None
    decision_reason: str
    grant: GrantOut | None


class HistoryOut(_Out):
    entity: str
    entity_id: int
    action: str
    actor: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ApiKeyOut(_Out):
    key_id: str
    department_code: str
    role: Role
    label: str
    created_at: datetime
    revoked_at: datetime | None


class DerivedFieldOut(_Out):
    field: str
    rule: str
    sources: list[str]
    links: list[str]
    params: dict[str, Any]


class ThemeOut(_Out):
    code: str
    name: str
    resource_code: str
    key_kind: KeyKind
    key: str | None = Field(description="主题主键信息项 (the theme resource's key item)")
    population_code: str | None
    description: str
    fields: list[str] = Field(description="主题字段，即主题资源的信息项 (the theme's fields)")
    derived: list[DerivedFieldOut]


class VerificationOut(_Out):
    check: str
    name: str
    theme_code: str | None
    resource_code: str
    fields: dict[str, str]
    yes_values: list[str]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A list response: the items of one page and the total count."""

    data: list[T]
    count: int


class GrantRevokeIn(BaseModel):
    """Why a grant is taken back: required, and kept in the grant's history."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500, description="撤销理由 (reason, required)")
