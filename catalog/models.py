"""Persistent entities of 三清单一目录 (SQLAlchemy mappings).

The mapped classes are the catalogue's domain objects; only ``catalog.repository`` and the
services that call it load or save them, and the API never returns them directly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from catalog.domain import (
    DataLevel,
    DataType,
    DemandState,
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

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored and returned as aware UTC on every backend (SQLite drops tz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(enum_cls: type[StrEnum]) -> SAEnum:
    """Enums are stored as their Chinese value in a plain string column (portable, readable)."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Department(Base):
    """A government department (部门), identified by its unified social credit code."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(50))
    region_code: Mapped[str] = mapped_column(String(6))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    is_data_authority: Mapped[bool] = mapped_column(Boolean, default=False)

    parent: Mapped[Department | None] = relationship(remote_side=[id])
    duties: Mapped[list[Duty]] = relationship(back_populates="department", order_by="Duty.code")


class Duty(Base):
    """职责: one line of a department's 权责清单 and the data items it obliges it to produce."""

    __tablename__ = "duties"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    data_items: Mapped[list[Any]] = mapped_column(JSON, default=list)

    department: Mapped[Department] = relationship(back_populates="duties")


class Resource(Base):
    """信息资源: one catalogue entry with the guideline's core metadata."""

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    classification: Mapped[ResourceClass] = mapped_column(_enum(ResourceClass))
    category: Mapped[str] = mapped_column(String(100), default="")
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(50), default="数据库")
    share_type: Mapped[ShareType] = mapped_column(_enum(ShareType))
    share_condition: Mapped[str] = mapped_column(Text, default="")
    not_shared_basis: Mapped[str] = mapped_column(Text, default="")
    # None only for 不予共享 resources whose catalogue left 共享方式 blank.
    # (No column default: SQLAlchemy would fire it for an explicit None.)
    share_method: Mapped[ShareMethod | None] = mapped_column(_enum(ShareMethod), nullable=True)
    open_to_public: Mapped[bool] = mapped_column(Boolean, default=False)
    open_condition: Mapped[str] = mapped_column(Text, default="")
    update_cycle: Mapped[UpdateCycle] = mapped_column(_enum(UpdateCycle))
    publish_date: Mapped[date | None] = mapped_column(Date)
    related_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    duty_id: Mapped[int | None] = mapped_column(ForeignKey("duties.id"), index=True)
    business_matter: Mapped[str] = mapped_column(String(200), default="")
    scenario: Mapped[str] = mapped_column(String(200), default="")
    data_level: Mapped[DataLevel] = mapped_column(_enum(DataLevel), default=DataLevel.GENERAL)
    state: Mapped[ResourceState] = mapped_column(_enum(ResourceState), index=True)
    state_changed_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)
    # A published resource's proposed next version (a ResourceIn as JSON) while it is reviewed;
    # the current version keeps serving until a steward approves it (services.review_revision).
    pending_revision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    provider: Mapped[Department] = relationship()
    duty: Mapped[Duty | None] = relationship()
    items: Mapped[list[DataItem]] = relationship(
        back_populates="resource", order_by="DataItem.position", cascade="all, delete-orphan"
    )
    mounts: Mapped[list[Mount]] = relationship(
        back_populates="resource", order_by="Mount.id", cascade="all, delete-orphan"
    )

    def item(self, name: str) -> DataItem | None:
        return next((i for i in self.items if i.name == name), None)

    @property
    def key_items(self) -> list[DataItem]:
        return [i for i in self.items if i.is_key]


class DataItem(Base):
    """信息项: a field of a resource, with what the exchange needs to share it safely."""

    __tablename__ = "data_items"
    __table_args__ = (UniqueConstraint("resource_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100), index=True)
    data_type: Mapped[DataType] = mapped_column(_enum(DataType))
    length: Mapped[int | None] = mapped_column(Integer)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)
    sensitivity: Mapped[Sensitivity] = mapped_column(
        _enum(Sensitivity), default=Sensitivity.GENERAL
    )
    mask_kind: Mapped[str | None] = mapped_column(String(20))
    authoritative: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")

    resource: Mapped[Resource] = relationship(back_populates="items")


class ResourceVersion(Base):
    """An immutable snapshot of a resource, taken on every content or state change."""

    __tablename__ = "resource_versions"
    __table_args__ = (UniqueConstraint("resource_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Mount(Base):
    """挂接: the usable asset (库表, 接口, 文件) behind a resource; mounted ones form 能力清单."""

    __tablename__ = "mounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    kind: Mapped[MountKind] = mapped_column(_enum(MountKind))
    target: Mapped[str] = mapped_column(String(500))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pending_target: Mapped[str | None] = mapped_column(String(500))
    pending_config: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state: Mapped[MountState] = mapped_column(_enum(MountState), index=True)
    state_changed_at: Mapped[datetime]
    last_refreshed_at: Mapped[datetime | None]
    review_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    resource: Mapped[Resource] = relationship(back_populates="mounts")


class Demand(Base):
    """共享需求: what a department needs from others and why, routed through the duties."""

    __tablename__ = "demands"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    wanted_items: Mapped[list[Any]] = mapped_column(JSON)
    raw_requested: Mapped[list[Any]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(Text)
    business_matter: Mapped[str] = mapped_column(String(200), default="")
    scenario: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[DemandState] = mapped_column(_enum(DemandState), index=True)
    submitted_at: Mapped[datetime]
    routed_at: Mapped[datetime | None]
    due_date: Mapped[date | None] = mapped_column(Date)
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")

    requester: Mapped[Department] = relationship(foreign_keys=[requester_id])
    provider: Mapped[Department | None] = relationship(foreign_keys=[provider_id])
    resource: Mapped[Resource | None] = relationship()
    grant: Mapped[Grant | None] = relationship(back_populates="demand", uselist=False)


class Grant(Base):
    """授权: what an approved demand lets a department use, field by field, until expiry."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), index=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)  # item name -> FieldAccess value
    purpose: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=600)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]

    demand: Mapped[Demand] = relationship(back_populates="grant")
    department: Mapped[Department] = relationship()
    resource: Mapped[Resource] = relationship()


class Theme(Base):
    """主题库 (一企一档, 一人一档): a theme resource whose data items are assembled per key.

    ``code`` names the theme in URLs (``/themes/{code}/profiles``); the population is the
    key's authoritative holder unless ``population_id`` names another resource.
    """

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), unique=True)
    key_kind: Mapped[str] = mapped_column(String(8))  # uscc | ric
    population_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    resource: Mapped[Resource] = relationship(foreign_keys=[resource_id])
    population: Mapped[Resource | None] = relationship(foreign_keys=[population_id])
    derived: Mapped[list[ThemeDerivedField]] = relationship(
        back_populates="theme", order_by="ThemeDerivedField.id", cascade="all, delete-orphan"
    )


class ThemeDerivedField(Base):
    """A theme field no single source holds, computed by a named rule over source resources."""

    __tablename__ = "theme_derived_fields"
    __table_args__ = (UniqueConstraint("theme_id", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(100))
    rule: Mapped[str] = mapped_column(String(40))
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)  # resource codes
    links: Mapped[list[Any]] = mapped_column(JSON, default=list)  # columns naming the key
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    theme: Mapped[Theme] = relationship(back_populates="derived")


class VerificationSubject(Base):
    """核验事项: which resource and fields answer one yes-or-no check, and what means yes."""

    __tablename__ = "verification_subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    check: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # role -> data item
    yes_values: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    resource: Mapped[Resource] = relationship()
    theme: Mapped[Theme | None] = relationship()


class HistoryEntry(Base):
    """Who changed what, when, with the state before and after (append-only)."""

    __tablename__ = "history"
    __table_args__ = (Index("ix_history_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Counter(Base):
    """A named number handed out once per value (demand codes of a day, audit sequence).

    Taking the next value is one upsert that locks the row until the transaction ends, so
    parallel writers on SQLite and PostgreSQL queue on it instead of colliding on a UNIQUE
    column.
    """

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class ApiKey(Base):
    """A department credential; only a hash of the secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(24), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    department: Mapped[Department] = relationship()


class IngestBatch(Base):
    """One load of one source file through a mount: what was read, kept and set aside.

    ``rows_read == rows_accepted + rows_quarantined`` for every finished batch; the lake's
    Delta commit carries the same batch id, so the two can always be reconciled.
    """

    __tablename__ = "ingest_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64), unique=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), index=True)
    mount_id: Mapped[int] = mapped_column(ForeignKey("mounts.id"), index=True)
    source_file: Mapped[str] = mapped_column(String(1000))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_bytes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # A running job renews this; past it, the job is presumed dead (see catalog.batches).
    lease_until: Mapped[datetime | None]
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    table_version: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    resource: Mapped[Resource] = relationship()
    mount: Mapped[Mount] = relationship()


class SearchDocument(Base):
    """What one resource's search document was built from, as the database lower-cased it.

    ``catalog.search`` owns these rows and the full-text index built from them (an FTS5
    table on SQLite, the ``doc`` tsvector column on PostgreSQL, both created by migration
    0005). SQLite's index stores no text, so taking a document out needs the old text: that
    is why it is kept here. No foreign key: the index removes a document itself when its
    resource is gone, and a cascade would leave the FTS5 entry behind.
    """

    __tablename__ = "search_docs"

    resource_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(64), index=True)
    code_text: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    items: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    share_type: Mapped[str] = mapped_column(String(16))
    classification: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[int] = mapped_column(Integer)


# ---- quality gate (质检入库) -------------------------------------------------------------


class QualityProfile(Base):
    """A resource's quality settings: its pass-rate threshold and its items' standards.

    ``item_standards`` holds, per data item, the code list (代码表) and format (格式) the
    catalogue prescribes, from which rules are generated: ``{item: {"codes": [...],
    "pattern": "..."}}``. A resource without a profile uses the default threshold.
    """

    __tablename__ = "quality_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), unique=True
    )
    threshold: Mapped[float | None] = mapped_column(Float)
    item_standards: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    references: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))

    resource: Mapped[Resource] = relationship()


class QualityRule(Base):
    """A steward's own expectation on one data item: a whitelisted kind with parameters."""

    __tablename__ = "quality_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True
    )
    item_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(100))

    resource: Mapped[Resource] = relationship()


class QualityResult(Base):
    """The quality outcome of one batch (or one stand-alone check) and the gate's decision.

    ``rows_read == rows_passed + rows_failed``; ``counts`` maps rule ids to failing rows;
    ``sample`` holds a few failing rows, masked, with the rules each failed.
    """

    __tablename__ = "quality_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64), unique=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    run_kind: Mapped[str] = mapped_column(String(10))
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_passed: Mapped[int] = mapped_column(Integer)
    rows_failed: Mapped[int] = mapped_column(Integer)
    pass_rate: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(10), index=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sample: Mapped[list[Any]] = mapped_column(JSON, default=list)
    docs_path: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(index=True)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))

    resource: Mapped[Resource] = relationship()
    department: Mapped[Department] = relationship()


class QualityNotification(Base):
    """A notice to the provider department: a batch of its data was held, and why."""

    __tablename__ = "quality_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    batch_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]

    department: Mapped[Department] = relationship()
    resource: Mapped[Resource] = relationship()


class QualityDecision(Base):
    """One step of a batch's gate history: held, released or rejected, by whom and why."""

    __tablename__ = "quality_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(
        ForeignKey("quality_results.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class AuditEntry(Base):
    """审计日志: one data call of the exchange, hash-chained to the one before and signed.

    X-Road message-log style: ``entry_hash`` covers every other column and ``prev_hash``,
    ``signature`` is the platform's Ed25519 signature of ``entry_hash``; changing any stored
    value breaks the chain at that entry. Rows are only ever inserted. Looked-up identifiers
    are kept as a keyed hash (``subject_hash``), never in clear.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime]
    request_id: Mapped[str] = mapped_column(String(32))
    department_code: Mapped[str | None] = mapped_column(String(18), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    grant_id: Mapped[int | None] = mapped_column(Integer)
    resource_code: Mapped[str | None] = mapped_column(String(64), index=True)
    provider_code: Mapped[str | None] = mapped_column(String(18), index=True)
    purpose: Mapped[str] = mapped_column(String(200), default="")
    endpoint: Mapped[str] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(40), default="")
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    table_version: Mapped[int | None] = mapped_column(Integer)
    epsilon: Mapped[str] = mapped_column(String(24), default="")
    result_hash: Mapped[str] = mapped_column(String(64), default="")
    subject_hash: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(16))
    # 核验 only: the business case (办件编号) and matter (业务事项) the call was made for.
    # Outside the hash when empty, so entries written before these columns still verify.
    case_ref: Mapped[str | None] = mapped_column(String(64))
    business_matter: Mapped[str | None] = mapped_column(String(200))


class PrivacyBudgetAccount(Base):
    """隐私预算: the ε a department may spend, and has spent, on one privacy unit in one period.

    The unit is a population (``person``: everyone identified by ID number), not a resource,
    so every resource about the same people draws on one budget. ε is kept in integer steps of
    1e-12 (``privacy.dp.EPSILON_DECIMALS``) so the database can check and spend it in one
    conditional UPDATE without floating-point drift.
    """

    __tablename__ = "privacy_budgets"
    __table_args__ = (UniqueConstraint("department_id", "privacy_unit", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    privacy_unit: Mapped[str] = mapped_column(String(80))
    period: Mapped[str] = mapped_column(String(16))
    total_units: Mapped[int] = mapped_column(BigInteger)
    spent_units: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]


class AggregateRelease(Base):
    """A released aggregate, kept so that asking the same question again gets the same answer.

    Fresh noise for a repeated query would let a department average the noise away; the
    stored answer costs no further budget and reveals nothing new. A noised release is written
    in the same transaction as its charge to ``privacy_budgets``, so the ε of the releases of a
    department, unit and period always sums to what its budget says was spent.
    """

    __tablename__ = "aggregate_releases"
    __table_args__ = (UniqueConstraint("department_id", "resource_id", "query_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    table_version: Mapped[int] = mapped_column(Integer)
    query_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    epsilon: Mapped[float] = mapped_column(Float, default=0.0)
    privacy_unit: Mapped[str] = mapped_column(String(80), default="")
    period: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime]


class HolidayNotice(Base):
    """国务院办公厅关于部分节假日安排的通知: one year's holidays and swapped working days.

    Imported by a steward when the State Council publishes it, so deadlines in years the
    holiday package does not know become exact without an upgrade. ``holidays`` keeps the
    notice's own shape: ``[{"name", "start", "end", "workdays": [...]}]`` with ISO dates.
    """

    __tablename__ = "holiday_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(500), default="")
    holidays: Mapped[list[Any]] = mapped_column(JSON)
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(100))


class UsageCounter(Base):
    """A quota counted in the database so that every API worker sees the same number.

    ``scope`` names the quota (核验 per case, 核验 per subject per day, keys per grant per day),
    ``subject`` is a keyed hash of what is counted (never an ID number in clear), ``period``
    the day or ``all``.
    """

    __tablename__ = "usage_counters"
    __table_args__ = (UniqueConstraint("scope", "subject", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(10))
    used: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class UsageAlert(Base):
    """A notice to a provider: a consumer's use of its resource crossed an anomaly threshold."""

    __tablename__ = "usage_alerts"
    __table_args__ = (UniqueConstraint("resource_id", "department_code", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    department_code: Mapped[str] = mapped_column(String(18))
    kind: Mapped[str] = mapped_column(String(30))
    period: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
