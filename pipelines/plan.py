"""What an ingest job needs to know about a resource, taken from the catalogue once.

Spark code works from this plain description instead of ORM objects, so a job can run in a
worker process (or an Airflow task) with nothing but the plan and the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from catalog.domain import DataType, MountKind, MountState, ResourceState
from catalog.identifiers import identifier_kind
from pipelines.errors import NotIngestable

if TYPE_CHECKING:
    # Spark's Python workers import this module for ItemSpec; the ORM costs them 0.6 s each.
    from catalog.models import Mount, Resource

LOAD_MODES = ("merge", "append", "full")


@dataclass(frozen=True)
class ItemSpec:
    name: str
    data_type: DataType
    length: int | None
    required: bool
    is_key: bool
    identifier: str | None  # uscc | ric | region


@dataclass(frozen=True)
class IngestPlan:
    resource_code: str
    resource_name: str
    mount_id: int
    table: str
    items: tuple[ItemSpec, ...]
    keys: tuple[str, ...]
    load: str = "merge"
    format: str | None = None
    encoding: str = "utf-8"
    column_mapping: dict[str, str] = field(default_factory=dict)  # source header -> item
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def item_names(self) -> list[str]:
        return [i.name for i in self.items]


def table_mount(resource: Resource) -> Mount | None:
    """The 库表 mount that ingestion fills (the first one that was not returned)."""
    return next(
        (
            m
            for m in resource.mounts
            if m.kind is MountKind.TABLE and m.state is not MountState.RETURNED
        ),
        None,
    )


def item_specs(resource: Resource) -> tuple[ItemSpec, ...]:
    """The catalogue's data items as the checks see them (key items are always required)."""
    return tuple(
        ItemSpec(
            name=i.name,
            data_type=i.data_type,
            length=i.length,
            required=i.required or i.is_key,
            is_key=i.is_key,
            identifier=identifier_kind(i.name),
        )
        for i in resource.items
    )


def plan_for(resource: Resource, mount: Mount) -> IngestPlan:
    """Build the plan; refuses resources that are not in service."""
    if resource.state not in (ResourceState.PUBLISHED, ResourceState.RETIRING):
        raise NotIngestable(
            f"信息资源 {resource.code} 状态为「{resource.state}」，未发布的目录不接收数据 "
            "(only published resources take data)"
        )
    config = mount.config or {}
    items = item_specs(resource)
    keys = tuple(config.get("key") or [i.name for i in items if i.is_key])
    load = config.get("load", "merge")
    if load not in LOAD_MODES:
        raise NotIngestable(f"挂接配置 load={load} 无效，应为 {LOAD_MODES} (bad load mode)")
    if load in ("merge", "append") and not keys:
        raise NotIngestable(
            f"信息资源 {resource.code} 没有主键信息项，无法合并或去重 (no key data item)"
        )
    return IngestPlan(
        resource_code=resource.code,
        resource_name=resource.name,
        mount_id=mount.id,
        table=mount.target,
        items=items,
        keys=keys,
        load=load,
        format=config.get("format"),
        encoding=config.get("encoding", "utf-8"),
        column_mapping=dict(config.get("column_mapping") or {}),
        options=dict(config.get("options") or {}),
    )
