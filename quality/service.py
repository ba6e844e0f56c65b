"""Quality operations on the catalogue: steward rules, profiles, the rule set of a resource.

Every operation a person triggers calls its check in ``quality.auth`` first and writes a
history entry, as the catalogue's own services do.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from catalog import repository as catalog_repository
from catalog.context import Actor, CatalogContext
from catalog.history import record
from catalog.identifiers import identifier_kind
from catalog.models import QualityProfile, QualityRule, Resource
from catalog.mounts import table_mount
from checks.errors import BadRule
from checks.plan import item_specs
from checks.rules import (
    Reference,
    RuleSet,
    build_ruleset,
    check_steward_params,
    steward_label,
    steward_rule,
)
from quality import auth
from quality import repository as repo

# Which base library holds which identifier (DOMAIN: 法人 keyed by USCC, 人口 by ID number).
LIBRARIES = {"法人": "uscc", "人口": "ric"}


def table_of(resource: Resource) -> tuple[str, tuple[str, ...]]:
    """The resource's lake table and key items (its 库表 mount, or the name ingest would give)."""
    mount = table_mount(resource)
    if mount is not None:
        keys = tuple((mount.config or {}).get("key") or [i.name for i in resource.key_items])
        return mount.target, keys
    return "r_" + resource.code.replace("/", "_").lower(), tuple(i.name for i in resource.key_items)


def references(ctx: CatalogContext, resource: Resource) -> dict[str, Reference]:
    """Items of ``resource`` that must exist in a base library, and where to look."""
    bases: dict[str, Reference] = {}
    for base in repo.base_resources(ctx.session):
        kind = LIBRARIES.get(base.category)
        if kind is None or kind in bases:
            continue
        key = next(
            (
                i
                for i in base.items
                if i.is_key and i.authoritative and identifier_kind(i.name) == kind
            ),
            None,
        )
        if key is None:
            continue
        table, _keys = table_of(base)
        bases[kind] = Reference(
            kind=kind,
            library=base.category,
            resource_code=base.code,
            table=table,
            key=key.name,
        )
    found: dict[str, Reference] = {}
    for item in resource.items:
        reference = bases.get(identifier_kind(item.name) or "")
        if reference is not None and reference.resource_code != resource.code:
            found[item.name] = reference
    return found


def masks(resource: Resource) -> dict[str, str]:
    """Masking of failure samples: personal items by their mask kind, ID numbers always."""
    out: dict[str, str] = {}
    for item in resource.items:
        if item.sensitivity.is_personal:
            out[item.name] = item.mask_kind or "generic"
        elif identifier_kind(item.name) == "ric":
            out[item.name] = "id_number"
    return out


def ruleset_for(ctx: CatalogContext, resource_code: str, *, today: date) -> RuleSet:
    """Every rule of a resource, read from the catalogue once (plain data from here on).

    ``today`` is the run's date the date rules judge by, given by the caller (a job's logical
    date or ``--as-of``, the API's request day): nothing below the jobs reads a clock.
    """
    resource = catalog_repository.resource(ctx.session, resource_code)
    profile = repo.profile(ctx.session, resource.id)
    table, keys = table_of(resource)
    steward = [
        steward_rule(rule_id=r.id, item=r.item_name, kind=r.kind, params=r.params, label=r.label)
        for r in repo.active_rules(ctx.session, resource.id)
    ]
    return build_ruleset(
        resource_code=resource.code,
        resource_name=resource.name,
        provider_code=resource.provider.code,
        table=table,
        items=item_specs(resource),
        keys=keys,
        standards=(profile.item_standards if profile else None) or {},
        steward=steward,
        references=references(ctx, resource) if (profile is None or profile.references) else {},
        threshold=(
            profile.threshold
            if profile and profile.threshold is not None
            else ctx.settings.quality_threshold
        ),
        today=today,
        masks=masks(resource),
    )


def rules_of(ctx: CatalogContext, *, resource_code: str, actor: Actor, today: date) -> RuleSet:
    resource = catalog_repository.resource(ctx.session, resource_code)
    auth.view_rules(actor, resource)
    return ruleset_for(ctx, resource_code, today=today)


def add_rule(
    ctx: CatalogContext,
    *,
    resource_code: str,
    item: str,
    kind: str,
    params: dict[str, Any],
    label: str = "",
    actor: Actor,
) -> QualityRule:
    """A steward's own expectation on one data item (whitelisted kinds, values only)."""
    resource = catalog_repository.resource(ctx.session, resource_code)
    auth.add_rule(actor, resource)
    if resource.item(item) is None:
        raise BadRule(f"信息资源 {resource.code} 没有信息项「{item}」 (no such data item)")
    clean = check_steward_params(kind, params)
    rule = QualityRule(
        resource_id=resource.id,
        item_name=item,
        kind=kind,
        params=clean,
        label=label.strip()[:200],
        created_at=ctx.now(),
        created_by=actor.name,
    )
    ctx.session.add(rule)
    ctx.session.flush()
    record(
        ctx,
        entity="quality_rule",
        entity_id=rule.id,
        action="add",
        actor=actor,
        before=None,
        after={"resource": resource.code, "item": item, "kind": kind, "params": clean},
    )
    return rule


def remove_rule(ctx: CatalogContext, *, rule_id: int, actor: Actor) -> QualityRule:
    """Rules are retired, not deleted, so past results still say what they checked."""
    rule = repo.rule(ctx.session, rule_id)
    auth.remove_rule(actor, rule.resource)
    rule.removed_at = ctx.now()
    rule.removed_by = actor.name
    record(
        ctx,
        entity="quality_rule",
        entity_id=rule.id,
        action="remove",
        actor=actor,
        before={"kind": rule.kind, "item": rule.item_name, "params": rule.params},
        after=None,
    )
    return rule


def set_profile(
    ctx: CatalogContext,
    *,
    resource_code: str,
    actor: Actor,
    threshold: float | None = None,
    item: str | None = None,
    codes: list[str] | None = None,
    pattern: str | None = None,
    references_enabled: bool | None = None,
) -> QualityProfile:
    """Set the pass-rate threshold, an item's code list or format, or reference checks."""
    resource = catalog_repository.resource(ctx.session, resource_code)
    auth.set_profile(actor, resource)
    profile = repo.profile(ctx.session, resource.id)
    if profile is None:
        profile = QualityProfile(
            resource_id=resource.id,
            threshold=None,
            item_standards={},
            references=True,
            updated_at=ctx.now(),
            updated_by=actor.name,
        )
        ctx.session.add(profile)
    before = {
        "threshold": profile.threshold,
        "item_standards": dict(profile.item_standards or {}),
        "references": profile.references,
    }
    if threshold is not None:
        if not 0.0 <= threshold <= 1.0:
            raise BadRule("阈值应在 0 与 1 之间，如 0.99 (threshold between 0 and 1)")
        profile.threshold = threshold
    if codes is not None or pattern is not None:
        if item is None or resource.item(item) is None:
            raise BadRule(f"信息资源 {resource.code} 没有信息项「{item}」 (no such data item)")
        standards = dict(profile.item_standards or {})
        entry = dict(standards.get(item) or {})
        if codes is not None:
            entry["codes"] = check_steward_params("in_set", {"values": codes})["values"]
        if pattern is not None:
            entry["pattern"] = check_steward_params("regex", {"pattern": pattern})["pattern"]
        standards[item] = entry
        profile.item_standards = standards  # a new dict, so the JSON column sees the change
    if references_enabled is not None:
        profile.references = references_enabled
    profile.updated_at = ctx.now()
    profile.updated_by = actor.name
    ctx.session.flush()
    record(
        ctx,
        entity="quality_profile",
        entity_id=profile.id,
        action="set",
        actor=actor,
        before=before,
        after={
            "threshold": profile.threshold,
            "item_standards": profile.item_standards,
            "references": profile.references,
        },
    )
    return profile


def rule_out(rule: QualityRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "resource_code": rule.resource.code,
        "item": rule.item_name,
        "kind": rule.kind,
        "params": rule.params,
        "label": rule.label or steward_label(rule.kind, rule.params),
        "created_at": rule.created_at,
        "created_by": rule.created_by,
    }


def steward_rules(ctx: CatalogContext, *, resource_code: str, actor: Actor) -> list[QualityRule]:
    resource = catalog_repository.resource(ctx.session, resource_code)
    auth.view_rules(actor, resource)
    return list(repo.active_rules(ctx.session, resource.id))
