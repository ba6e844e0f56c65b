"""一企一档 / 一人一档 profiles: granted fields only, masked unless raw, with provenance.

What a profile shows together follows ``privacy.disclosure``: a birth date beside a masked ID
number is generalised, a status field granted masked is left out (and listed as withheld).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from catalog.context import CatalogContext
from catalog.models import Grant
from exchange_api import quotas
from exchange_api.access import authorise_data_call
from exchange_api.data_schemas import BatchOut, Evidence, FieldValue, ProfileOut
from exchange_api.runtime import (
    DataCall,
    Exchange,
    Recorder,
    key_problems,
    normalise_key,
)
from exchange_api.views import ResourceView
from infra.errors import NotFound, ValidationError
from privacy.disclosure import (
    WITHHELD_BIRTH_DATE,
    DisclosureRules,
    FieldPlan,
    Treatment,
    plan_fields,
    served_value,
)
from privacy.disclosure import plain_value as jsonable

PROVENANCE = "_provenance"


def authorised_fields(
    ctx: CatalogContext,
    ex: Exchange,
    call: DataCall,
    recorder: Recorder,
    view: ResourceView,
    fields: Sequence[str] | None,
    *,
    what: str,
    cost: int = 1,
) -> tuple[Grant, list[str]]:
    """The grant for this call and the fields it will return (all granted ones by default).

    Unknown field names are a 422 before any grant is looked at, so a refusal never hints
    at which fields exist beyond the catalogue's own description; the rate limit counts only
    calls that passed the grant check, ``cost`` units each (the keys a lookup asks for).
    """
    unknown = [f for f in (fields or []) if f not in view.items]
    if unknown:
        raise ValidationError(
            f"{what}没有这些字段 (unknown fields): {'、'.join(unknown)}",
            details=[{"field": "fields", "reason": f"unknown field {n}"} for n in unknown],
        )
    grant = authorise_data_call(
        ctx, actor=call.actor, resource=view, purpose=call.purpose, fields=list(fields or [])
    )
    recorder.uses(view, grant)
    ex.limiter.hit(ctx, grant, cost=cost)
    chosen = list(fields) if fields else [f for f in grant.fields if f in view.items]
    return grant, chosen


def evidence(ref: Any) -> Evidence:
    return Evidence(audit_seq=ref.seq, entry_hash=ref.entry_hash, request_id=ref.request_id,
                    at=ref.at)  # fmt: skip


def _profile(
    theme: str, view: ResourceView, row: dict[str, Any] | None,
    plans: Mapping[str, FieldPlan], version: int, rules: DisclosureRules, today: date,
) -> ProfileOut:  # fmt: skip
    if row is None:
        return ProfileOut(theme=theme, found=False, table_version=version)
    provenance = dict(row.get(PROVENANCE) or [])
    fields = {}
    withheld = {}
    for name, plan in plans.items():
        if plan.treatment is Treatment.WITHHOLD:
            withheld[name] = plan.reason or ""
            continue
        stored = row.get(name)
        value = served_value(plan, jsonable(stored), rules, on=today)
        generalised = plan.treatment is Treatment.GENERALISE
        if generalised and stored is not None and value is None:
            withheld[name] = WITHHELD_BIRTH_DATE  # unreadable: never shown as it is
            continue
        stamp = provenance.get(name) or {}
        fields[name] = FieldValue(
            value=value,
            masked=plan.treatment in (Treatment.MASK, Treatment.GENERALISE),
            source=stamp.get("source") or (view.code if name == view.key else None),
            as_of=stamp.get("as_of"),
            generalised=rules.birth_date.value if generalised else None,
            note=plan.reason if generalised else None,
        )
    return ProfileOut(
        theme=theme, found=True, fields=fields, withheld=withheld, table_version=version
    )


def lookup(
    ex: Exchange,
    call: DataCall,
    *,
    theme: str,
    keys: Sequence[str],
    fields: Sequence[str] | None,
    single: bool,
    key_location: str | None = None,
) -> BatchOut:
    """Look up one or many keys of a theme for the caller, audited whatever happens."""
    if len(keys) > ex.config.batch_max_keys:
        raise ValidationError(
            f"批量查询最多 {ex.config.batch_max_keys} 个 (too many keys)",
            details=[{"field": "keys", "reason": f"at most {ex.config.batch_max_keys}"}],
        )
    with ex.audited(call) as recorder, quotas.alerting(ex.catalog):
        with ex.catalog.unit() as ctx:
            # The theme is whatever the catalogue defines under this name (404 otherwise).
            defined = ex.theme(ctx, theme)
            view = ex.view(ctx, defined.resource_code)
            recorder.uses(view)
            wanted = [normalise_key(defined.key_kind, k) for k in keys]
            key_problems(
                defined.key_kind, wanted, field="key" if single else "keys",
                location=key_location or ("path" if single else "body"),
            )  # fmt: skip
            # Every distinct key counts, against the minute and against the day: a batch of a
            # thousand generated ID numbers is a thousand questions, not one.
            distinct = len(dict.fromkeys(wanted))
            grant, chosen = authorised_fields(
                ctx, ex, call, recorder, view, fields, what="主题", cost=distinct
            )
            quotas.count_keys(
                ctx, grant_id=grant.id, resource_id=view.resource_id,
                department_code=call.actor.department_code or "", keys=distinct,
                limit=ex.config.lookup_keys_per_grant_per_day,
                subject=ex.key_quota_subject(call, view),
            )  # fmt: skip
            access = {name: str(grant.fields[name]) for name in chosen}
        assert view.key is not None
        detected = ex.lake.snapshot(view.table).identifier_columns()
        plans = plan_fields(view.served_fields(access, detected), ex.disclosure)
        served = [n for n, plan in plans.items() if plan.treatment is not Treatment.WITHHOLD]
        version, rows = ex.lake.lookup(
            view.table, key_column=view.key, keys=wanted, columns=[*served, PROVENANCE]
        )
        today = ex.today()
        data = [
            _profile(theme, view, rows.get(k), plans, version, ex.disclosure, today) for k in wanted
        ]
        found = sum(p.found for p in data)
        if single and not found:
            raise NotFound("未找到该主体的档案 (no profile for this key)")
        ref = ex.commit(
            recorder, fields=served, rows=found,
            result=[p.model_dump(mode="json") for p in data], subjects=wanted,
            table_version=version,
        )  # fmt: skip
    return BatchOut(theme=theme, data=data, count=len(data), found=found, evidence=evidence(ref))
