"""A 库表 mount's configuration: how the provider's files are read into the resource's items.

A mount's ``config`` is a JSON object kept in the catalogue and changed through the mount
review workflow (变更待审核 → the steward approves). Every reader of departmental files
(the ingest job, ``quality run --file``, the DAGs, ``mounts preview``) takes it through
:func:`parse_mount_config`, so a key means the same thing everywhere; an unknown key or a
bad value is refused with a message naming the key, never ignored. The keys are documented
in ``docs/mounts.md``.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator
from pydantic import ValidationError as PydanticError

from catalog.domain import DataType, MountKind
from catalog.errors import ValidationError

if TYPE_CHECKING:
    from catalog.models import Resource

NUMERIC_TYPES = frozenset(
    {DataType.NUMBER, DataType.MONEY, DataType.DOUBLE, DataType.FLOAT, DataType.INTEGER}
)
FORMATS = ("csv", "xlsx", "jsonl", "parquet")
TAB_WORDS = {"\\t", "tab", "TAB", "制表符"}


class UnitSpec(BaseModel):
    """A source column's unit: converted (``{"unit": "万元", "to": "元", "factor": 10000}``)
    or only recorded (``{"unit": "万元"}``: values are kept as written, in that unit)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: str = Field(min_length=1, max_length=20)
    to: str | None = Field(default=None, min_length=1, max_length=20)
    factor: Decimal | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _both_or_neither(self) -> UnitSpec:
        if (self.to is None) != (self.factor is None):
            raise ValueError("to 与 factor 须同时给出 (give both 'to' and 'factor', or neither)")
        return self

    @property
    def converts(self) -> bool:
        return self.factor is not None and self.factor != 1


class MountConfig(BaseModel):
    """Every key a 库表 mount's config may hold; anything else is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # What the lake does with a batch.
    layer: Literal["validated"] = "validated"
    key: list[str] | None = None
    load: Literal["merge", "append", "full"] = "merge"
    schedule: str | None = None
    # How the file is read.
    format: Literal["csv", "xlsx", "jsonl", "parquet"] | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    sheet: str | None = Field(default=None, min_length=1, max_length=31)
    header_row: StrictInt = Field(default=1, ge=1, le=100)
    # How its columns become the resource's data items.
    column_mapping: dict[str, str] = Field(default_factory=dict)
    ignore_columns: list[str] = Field(default_factory=list)
    defaults: dict[str, str | int | float | None] = Field(default_factory=dict)
    units: dict[str, UnitSpec] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _tab(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("delimiter") in TAB_WORDS:
            data = {**data, "delimiter": "\t"}
        return data

    @model_validator(mode="after")
    def _characters(self) -> MountConfig:
        for name in ("delimiter", "quote", "escape"):
            value = getattr(self, name)
            if len(value) != 1:
                raise ValueError(f"{name} 须为单个字符 (must be one character)，而不是「{value}」")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ValueError(f"encoding：未知的编码「{self.encoding}」(unknown encoding)") from None
        overlap = sorted(set(self.ignore_columns) & set(self.column_mapping))
        if overlap:
            raise ValueError(
                f"ignore_columns 与 column_mapping 同时列出了「{'、'.join(overlap)}」"
                "(a column cannot be both mapped and ignored)"
            )
        return self

    def conversions(self) -> dict[str, Decimal]:
        """Item -> factor of the units that convert."""
        return {
            item: spec.factor
            for item, spec in self.units.items()
            if spec.converts and spec.factor is not None
        }


KNOWN_KEYS = tuple(MountConfig.model_fields)


def _message(error: Any) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        top = str(error["loc"][0]) if len(error.get("loc", ())) == 1 else None
        allowed = "、".join(KNOWN_KEYS) if top else "unit、to、factor"
        return (
            f"挂接配置中有未知的键「{where}」，可用的键：{allowed} "
            f"(unknown mount config key '{where}')"
        )
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    if kind == "literal_error":
        expected = (error.get("ctx") or {}).get("expected", "")
        message = f"应为 {expected} 之一 (expected one of {expected})"
    if where:
        return f"挂接配置「{where}」取值无效：{message} (invalid mount config value)"
    return f"挂接配置无效：{message} (invalid mount config)"


def parse_mount_config(config: dict[str, Any] | None) -> MountConfig:
    """The typed config; raises :class:`ValidationError` naming every bad key."""
    try:
        return MountConfig.model_validate(config or {})
    except PydanticError as exc:
        messages = [_message(e) for e in exc.errors()]
        raise ValidationError(
            "；".join(messages), details=[{"message": m} for m in messages]
        ) from None


def check_against_items(
    config: MountConfig,
    *,
    items: Iterable[tuple[str, DataType, bool]],
) -> None:
    """The keys that name data items must name this resource's items, used as they may be.

    ``items`` are ``(name, data type, required)``; key items count as required.
    """
    types: dict[str, DataType] = {}
    required: set[str] = set()
    for name, data_type, is_required in items:
        types[name] = data_type
        if is_required:
            required.add(name)
    problems: list[str] = []

    def unknown(key: str, names: Iterable[str]) -> None:
        for name in names:
            if name not in types:
                problems.append(
                    f"{key}：「{name}」不是该信息资源的信息项 (not a data item of the resource)"
                )

    unknown("column_mapping", config.column_mapping.values())
    targets: dict[str, str] = {}
    for header, item in config.column_mapping.items():
        if item in targets:
            problems.append(
                f"column_mapping：「{targets[item]}」和「{header}」都映射到「{item}」"
                "(two columns mapped to one data item)"
            )
        targets[item] = header
    unknown("defaults", config.defaults)
    for name in config.defaults:
        if name in required:
            problems.append(
                f"defaults：「{name}」是必填信息项，不能用默认值补齐 "
                "(required data items cannot be filled by a default)"
            )
    unknown("units", config.units)
    for name, spec in config.units.items():
        if spec.converts and name in types and types[name] not in NUMERIC_TYPES:
            problems.append(
                f"units：「{name}」不是数值型信息项，不能换算单位 (only numeric items convert)"
            )
    unknown("key", config.key or [])
    if problems:
        raise ValidationError("；".join(problems), details=[{"message": p} for p in problems])


def check_mount(*, kind: MountKind, config: dict[str, Any] | None, resource: Resource) -> None:
    """What the mount services call before saving a 库表 mount or its change."""
    if kind is not MountKind.TABLE:
        return  # 接口 and 文件 mounts are not read by the ingest job
    parsed = parse_mount_config(config)
    check_against_items(
        parsed,
        items=[(i.name, i.data_type, i.required or i.is_key) for i in resource.items],
    )


def changed_config(
    base: dict[str, Any] | None,
    *,
    set_keys: dict[str, Any] | None = None,
    mapping: dict[str, str] | None = None,
    ignore: list[str] | None = None,
    defaults: dict[str, Any] | None = None,
    units: dict[str, dict[str, Any]] | None = None,
    unset: list[str] | None = None,
) -> dict[str, Any]:
    """``base`` with a change applied as ``govshare mounts set`` states it: scalar keys
    replaced, mappings, ignored columns, defaults and units added to, ``unset`` keys removed
    (a key, or ``column_mapping.<列>``, ``defaults.<信息项>``, ``units.<信息项>``,
    ``ignore_columns.<列>``). The result is validated when the change is requested."""
    config: dict[str, Any] = {k: v for k, v in (base or {}).items()}
    config.update(set_keys or {})
    for key, added in (("column_mapping", mapping), ("defaults", defaults), ("units", units)):
        if added:
            config[key] = {**(config.get(key) or {}), **added}
    if ignore:
        config["ignore_columns"] = list(
            dict.fromkeys([*(config.get("ignore_columns") or []), *ignore])
        )
    for name in unset or []:
        key, _, member = name.partition(".")
        if not member:
            config.pop(key, None)
            continue
        current = config.get(key)
        if isinstance(current, dict):
            current = {k: v for k, v in current.items() if k != member}
        elif isinstance(current, list):
            current = [v for v in current if v != member]
        else:
            continue
        if current:
            config[key] = current
        else:
            config.pop(key, None)
    return config
