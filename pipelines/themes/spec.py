"""What a theme is made of, resolved against the catalogue at build time.

The theme resource's data items are the theme's fields. For every field that is not derived,
the catalogue names the authoritative source: the published resource whose same-named data
item is flagged 权威来源. Other resources holding the same item are compared against it, and
their disagreements become conflicts. Derived fields (counts, statuses) are computed by the
rules in ``pipelines.themes.derive``. Which resource is a theme, its population and its
derived fields are the steward's definition in the catalogue (``catalog.themes``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from catalog import repository
from catalog.domain import ResourceState
from catalog.errors import ValidationError
from catalog.identifiers import identifier_kind
from catalog.models import Resource, Theme
from catalog.mounts import capability
from catalog.themes import get_theme, rule_params


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
    params: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, hash=False)


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
    """Resolve a defined theme's sources from the catalogue as it stands now."""
    return resolve_theme(session, get_theme(session, theme_code))


def resolve_defined(session: Session) -> list[ThemeSpec]:
    """Every theme the catalogue defines, resolved (``govshare themes build``)."""
    return [resolve_theme(session, t) for t in repository.themes(session)]


def resolve_theme(session: Session, definition: Theme) -> ThemeSpec:
    """The theme's table, population, fields and derived fields, from its definition."""
    theme = definition.resource
    theme_code = theme.code
    mount = capability(theme)
    table = mount.target if mount else "theme_" + theme_code.replace("/", "_")
    keys = [i for i in theme.items if i.is_key]
    key = keys[0].name
    key_kind = definition.key_kind
    derived_rules = {d.field: d for d in definition.derived}
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
    for name, rule in derived_rules.items():
        tables = []
        for code in rule.sources:
            source = by_code.get(code)
            source_mount = capability(source) if source is not None else None
            if source_mount is None:
                warnings.append(
                    f"派生字段 {name} 的来源 {code} 未发布或未挂接，字段为空 (source not usable)"
                )
                continue
            tables.append((code, source_mount.target))
        derived.append(
            DerivedField(
                name,
                rule.rule,
                tuple(tables),
                tuple(rule.links),
                rule_params(rule.rule, rule.params or {}),
            )
        )
    if definition.population is not None:
        base = _source(definition.population, key_kind, key)
        where = f"主体范围资源 {definition.population.code}"
    else:
        key_claims = sorted(
            (r for r in published if (i := r.item(key)) is not None and i.authoritative),
            key=lambda r: r.code,
        )
        base = _source(key_claims[0], key_kind, key) if key_claims else None
        where = f"主键 {key} 的权威来源"
    if base is None:
        raise ValidationError(
            f"主题 {definition.name} 没有可用的主体范围：{where}未发布、未挂接或不含主键 "
            "(no base source)"
        )
    return ThemeSpec(
        resource_code=theme_code,
        name=definition.name,
        table=table,
        key=key,
        key_kind=key_kind,
        base=base,
        fields=tuple(fields),
        derived=tuple(derived),
        warnings=tuple(warnings),
        field_order=tuple(i.name for i in theme.items),
    )
