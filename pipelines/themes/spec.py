"""What a theme is made of, resolved against the catalogue at build time.

The theme resource's data items are the theme's fields. For every field that is not derived,
the catalogue names the authoritative source: the published resource whose same-named data
item is flagged 权威来源. Other resources holding the same item are compared against it, and
their disagreements become conflicts. Derived fields (counts, statuses) are computed by the
rules in ``pipelines.themes.derive``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from catalog import repository
from catalog.domain import ResourceState
from catalog.identifiers import identifier_kind
from catalog.models import Resource
from catalog.mounts import capability

ENTERPRISE = "000008002/000001"
PERSON = "000008002/000002"


@dataclass(frozen=True)
class SourceSpec:
    """A validated table feeding the theme, and how its rows link to the theme key."""

    resource_code: str
    table: str
    link: str  # the source item holding the theme key
    order_by: tuple[str, ...]  # the newest row per key wins (other key items, descending)


@dataclass(frozen=True)
class FieldSource:
    field: str
    authoritative: SourceSpec | None
    others: tuple[SourceSpec, ...]


@dataclass(frozen=True)
class DerivedField:
    field: str
    rule: str  # a name in pipelines.themes.derive.RULES
    sources: tuple[tuple[str, str], ...]  # (resource code, lake table) the rule reads
    links: tuple[str, ...]  # source columns that hold the theme key


@dataclass(frozen=True)
class ThemeSpec:
    resource_code: str
    name: str
    table: str
    key: str
    key_kind: str
    base: SourceSpec  # whose keys make up the theme's population
    fields: tuple[FieldSource, ...]
    derived: tuple[DerivedField, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    field_order: tuple[str, ...] = ()  # the theme resource's data items, in catalogue order


# Derived fields: the rule, the resources it reads and their columns naming the theme key.
DERIVED: dict[str, dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]] = {
    ENTERPRISE: {
        "行政处罚次数": ("count_rows", ("000001002/000001",), ("统一社会信用代码",)),
        "有效证照数": ("count_valid_licences", ("000008001/000001",), ("持证主体代码",)),
    },
    PERSON: {
        "婚姻状况": ("marriage_status", ("000005001/000001",), ("男方身份证号", "女方身份证号")),
        "是否在世": ("alive", (), ()),
    },
}


def _source(resource: Resource, key_kind: str, key: str) -> SourceSpec | None:
    mount = capability(resource)
    if mount is None:
        return None
    names = [i.name for i in resource.items]
    link = (
        key
        if key in names
        else next(
            (i.name for i in resource.items if i.is_key and identifier_kind(i.name) == key_kind),
            None,
        )
    )
    if link is None:
        return None
    order = tuple(i.name for i in resource.items if i.is_key and i.name != link)
    return SourceSpec(resource.code, mount.target, link, order)


def resolve(session: Session, theme_code: str) -> ThemeSpec:
    """Resolve the theme's sources from the catalogue as it stands now."""
    theme = repository.resource(session, theme_code)
    mount = capability(theme)
    table = mount.target if mount else "theme_" + theme_code.replace("/", "_")
    keys = [i for i in theme.items if i.is_key]
    key = keys[0].name
    key_kind = identifier_kind(key) or "uscc"
    derived_rules = DERIVED.get(theme_code, {})
    published = [
        r
        for r in repository.resources(session, states=[ResourceState.PUBLISHED])
        if r.code != theme_code
    ]
    by_code = {r.code: r for r in published}
    warnings: list[str] = []
    fields: list[FieldSource] = []
    for item in theme.items:
        if item.name == key or item.name in derived_rules:
            continue
        holders = [r for r in published if r.item(item.name) is not None]
        claimed = sorted(
            (r for r in holders if r.item(item.name).authoritative),  # type: ignore[union-attr]
            key=lambda r: r.code,
        )
        if len(claimed) > 1:
            warnings.append(
                f"一数一源冲突：{item.name} 有 {len(claimed)} 个权威来源，暂用 {claimed[0].code} "
                f"(more than one authoritative source)"
            )
        if not claimed:
            warnings.append(f"{item.name} 没有权威来源，字段为空 (no authoritative source)")
        chosen = _source(claimed[0], key_kind, key) if claimed else None
        others = tuple(
            s
            for r in holders
            if r is not (claimed[0] if claimed else None)
            and (s := _source(r, key_kind, key)) is not None
        )
        fields.append(FieldSource(item.name, chosen, others))
    derived = []
    for name, (rule, codes, links) in derived_rules.items():
        tables = tuple(
            (code, mount.target)
            for code in codes
            if code in by_code and (mount := capability(by_code[code])) is not None
        )
        derived.append(DerivedField(name, rule, tables, links))
    key_claims = sorted(
        (r for r in published if (i := r.item(key)) is not None and i.authoritative),
        key=lambda r: r.code,
    )
    base = _source(key_claims[0], key_kind, key) if key_claims else None
    if base is None:
        raise ValueError(f"主题 {theme.name} 的主键 {key} 没有可用的权威来源 (no base source)")
    return ThemeSpec(
        resource_code=theme_code,
        name=theme.name,
        table=table,
        key=key,
        key_kind=key_kind,
        base=base,
        fields=tuple(fields),
        derived=tuple(derived),
        warnings=tuple(warnings),
        field_order=tuple(i.name for i in theme.items),
    )
