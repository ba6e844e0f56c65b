"""What an ingest job needs to know about a resource, taken from the catalogue once.

Spark code works from this plain description instead of ORM objects, so a job can run in a
worker process (or an Airflow task) with nothing but the plan and the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from catalog.domain import DataType, ResourceState
from catalog.identifiers import identifier_kind
from lake.errors import NotIngestable

if TYPE_CHECKING:
    # Spark's Python workers import this module for ItemSpec; the ORM costs them 0.6 s each.
    from catalog.models import Mount, Resource

LOAD_MODES = ("merge", "append", "full")  # as catalog.mount_config.MountConfig.load


@dataclass(frozen=True)
class ItemSpec:
    name: str
    data_type: DataType
    length: int | None
    required: bool
    is_key: bool
    identifier: str | None  # uscc | ric | region
    # The mount's unit conversion (万元 → 元: 10000): typed values are multiplied by it.
    factor: Decimal | None = None


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
    # How the file is laid out, and what to do with columns that do not map (docs/mounts.md).
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    sheet: str | None = None
    header_row: int = 1  # the line (or Excel row) holding the headers; data follows it
    ignore_columns: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)  # missing optional item -> value
    units: dict[str, dict[str, Any]] = field(default_factory=dict)  # item -> {unit, to, factor}

    @property
    def item_names(self) -> list[str]:
        return [i.name for i in self.items]


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


def plan_for(
    resource: Resource,
    mount: Mount,
    *,
    config: dict[str, Any] | None = None,
    in_service: bool = True,
) -> IngestPlan:
    """Build the plan from the mount's config (or ``config``, e.g. a pending change, for a
    preview); refuses resources that are not in service unless ``in_service`` is False.

    The config is parsed by :func:`catalog.mount_config.parse_mount_config`, the one reading
    every file reader shares: an invalid config stops the job with the key it names.
    """
    from catalog.errors import ValidationError
    from catalog.mount_config import parse_mount_config

    if in_service and resource.state not in (ResourceState.PUBLISHED, ResourceState.RETIRING):
        raise NotIngestable(
            f"信息资源 {resource.code} 状态为「{resource.state}」，未发布的目录不接收数据 "
            "(only published resources take data)"
        )
    try:
        parsed = parse_mount_config(mount.config if config is None else config)
    except ValidationError as error:
        raise NotIngestable(error.message) from None
    factors = parsed.conversions()
    items = tuple(replace(i, factor=factors.get(i.name)) for i in item_specs(resource))
    keys = tuple(parsed.key or [i.name for i in items if i.is_key])
    load = parsed.load
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
        format=parsed.format,
        encoding=parsed.encoding,
        column_mapping=dict(parsed.column_mapping),
        options=dict(parsed.options),
        delimiter=parsed.delimiter,
        quote=parsed.quote,
        escape=parsed.escape,
        sheet=parsed.sheet,
        header_row=parsed.header_row,
        ignore_columns=tuple(parsed.ignore_columns),
        defaults=dict(parsed.defaults),
        units={name: spec.model_dump(exclude_none=True) for name, spec in parsed.units.items()},
    )
