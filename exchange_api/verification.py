"""核验 (verification): yes or no answers computed inside the platform, never the record.

The grant must cover the fields the answer is computed from. Whether the key exists is not
told apart from a "no": an unknown ID number simply does not match.

A 核验 answers a question about one subject in one business case, so each call names its
case (办件编号) and business matter (业务事项); both go into the audit entry. Calls are bounded
per case and per subject per day and count against the grant's daily key quota
(``exchange_api.quotas``); volume beyond a threshold alerts the provider. What a 核验 may
reveal: one yes or no about the subject. A status check whose answer is a field's value
(婚姻状况 for "married") needs that field granted raw: where the grant shows it masked, the
mask wins and the 核验 is refused. The identity check is allowed with masked 姓名 because
the caller supplies the name; the per-subject bound keeps it from turning into a guessing
oracle.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from catalog.context import CHINA_TZ
from exchange_api import quotas
from exchange_api.access import authorise_data_call
from exchange_api.data_schemas import (
    CheckCase,
    IdentityCheckIn,
    LicenceCheckIn,
    PersonCheckIn,
    VerificationOut,
)
from exchange_api.exceptions import FieldMasked
from exchange_api.profiles import evidence
from exchange_api.runtime import (
    CheckRef,
    DataCall,
    Exchange,
    key_problems,
    normalise_key,
)
from exchange_api.views import ResourceView
from infra.errors import ValidationError

IDENTITY = "identity"
LICENCE = "licence"


def _is_yes(value: Any, yes_values: Sequence[str]) -> bool:
    """Whether a field's value is one the subject's definition counts as yes.

    Logical fields compare as ``true``/``false`` (是/否 accepted too), others as text.
    """
    if value is None:
        return False
    wanted = {v.strip().lower() for v in yes_values}
    if isinstance(value, bool):
        return bool(wanted & ({"true", "是", "1"} if value else {"false", "否", "0"}))
    return str(value).strip().lower() in wanted


def _same_name(a: Any, b: str) -> bool:
    if not isinstance(a, str):
        return False
    return unicodedata.normalize("NFC", a).strip() == unicodedata.normalize("NFC", b).strip()


def _answer(
    ex: Exchange, call: DataCall, *, subject: str, with_key: bool, check: str,
    key: str, key_field: str, decide: Any, case: CheckCase, shown_role: str | None = None,
) -> VerificationOut:  # fmt: skip
    """Authorise on the subject's fields, count the call, let ``decide`` answer, log it.

    ``subject`` names the 核验事项 the catalogue defines: the resource it reads and its
    fields by role, all of which the grant must cover, and the resource's key too when
    ``with_key`` (a person is looked up by it; a licence is found by its holder field).
    ``shown_role`` is the field whose value the answer discloses (婚姻状况 for "married"):
    if the grant delivers it masked, the 核验 is refused, because asking it of every subject
    would undo the mask. Masking wins; a 核验 of that field needs raw access to it.
    """
    with ex.audited(call) as recorder, quotas.alerting(ex.catalog):
        recorder.record.case_ref = case.case_ref
        recorder.record.business_matter = case.business_matter
        with ex.catalog.unit() as ctx:
            ref = ex.check(ctx, subject)
            view = ex.view(ctx, ref.resource_code)
            recorder.uses(view)
            kind = "uscc" if key_field == "uscc" else "ric"
            wanted = normalise_key(kind, key)
            key_problems(kind, [wanted], field=key_field, location="body")
            needed = [*([view.key] if with_key and view.key else []), *ref.fields.values()]
            grant = authorise_data_call(
                ctx, actor=call.actor, resource=view, purpose=call.purpose, fields=needed
            )
            shown_from = ref.fields.get(shown_role) if shown_role else None
            recorder.uses(view, grant)
            if shown_from is not None and view.mask_kind(shown_from, str(grant.fields[shown_from])):
                raise FieldMasked(
                    f"核验依据的字段「{shown_from}」按授权脱敏提供，核验结果会泄露该字段："
                    "需取得该字段的原文授权 (the answer would reveal a field granted masked)",
                    details=[{"field": shown_from, "reason": "granted masked"}],
                )
            ex.limiter.hit(ctx, grant)
            department = call.actor.department_code or ""
            config = ex.config
            quotas.count_verification(
                ctx, resource_id=view.resource_id, department_code=department,
                case_subject=ex.subject_hash(["case", department, case.case_ref]),
                person_subject=ex.subject_hash(["subject", department, wanted]),
                per_case=config.verify_max_per_case,
                per_subject=config.verify_max_per_subject_per_day,
                alert_at=config.verify_alert_per_day,
            )  # fmt: skip
            quotas.count_keys(
                ctx, grant_id=grant.id, resource_id=view.resource_id, department_code=department,
                keys=1, limit=config.lookup_keys_per_grant_per_day,
                subject=ex.key_quota_subject(call, view),
            )  # fmt: skip
            today = ctx.now().astimezone(CHINA_TZ).date()
        result, version = decide(view, ref, wanted, today)
        payload = {"check": check, "result": result}
        entry = ex.commit(
            recorder, fields=[], rows=0, result=payload, subjects=[wanted],
            table_version=version,
        )  # fmt: skip
    return VerificationOut(check=check, result=result, evidence=evidence(entry))


def _person_row(ex: Exchange, view: ResourceView, key: str, column: str) -> tuple[Any, int]:
    assert view.key is not None
    version, rows = ex.lake.lookup(view.table, key_column=view.key, keys=[key], columns=[column])
    row = rows.get(key)
    return (row.get(column) if row else None), version


def verify_identity(ex: Exchange, call: DataCall, body: IdentityCheckIn) -> VerificationOut:
    """身份核验: the ID number and the name belong to the same person."""

    def decide(view: ResourceView, ref: CheckRef, key: str, _today: date) -> tuple[bool, int]:
        name, version = _person_row(ex, view, key, ref.fields["name"])
        return _same_name(name, body.name), version

    return _answer(
        ex, call, subject=IDENTITY, with_key=True, check=IDENTITY, key=body.id_number,
        key_field="id_number", decide=decide, case=body,
    )  # fmt: skip


def verify_person(ex: Exchange, call: DataCall, body: PersonCheckIn) -> VerificationOut:
    """人员状态核验 (alive, married, insured, ...): the subject's field means yes or no."""
    if body.check in (IDENTITY, LICENCE):
        raise ValidationError(
            f"{body.check} 不是人员状态核验，请使用 /verify/{body.check} (not a status check)",
            details=[{"field": "check", "reason": "not a status check", "location": "body"}],
        )

    def decide(view: ResourceView, ref: CheckRef, key: str, _today: date) -> tuple[bool, int]:
        value, version = _person_row(ex, view, key, ref.fields["value"])
        return _is_yes(value, ref.yes_values), version

    return _answer(
        ex, call, subject=body.check, with_key=True, check=body.check, key=body.id_number,
        key_field="id_number", decide=decide, case=body, shown_role="value",
    )  # fmt: skip


def verify_licence(ex: Exchange, call: DataCall, body: LicenceCheckIn) -> VerificationOut:
    """证照核验 (一证一接口): a licence of the type, held by the enterprise, valid today."""

    def decide(view: ResourceView, ref: CheckRef, key: str, today: date) -> tuple[bool, int]:
        snap = ex.lake.snapshot(view.table)
        holder, kind = ref.fields["holder"], ref.fields["type"]
        until, state = ref.fields["valid_until"], ref.fields["state"]
        # Values are bound into an Arrow expression, never spliced into a query text.
        table = snap.dataset().to_table(
            columns=[until, state],
            filter=(ds.field(holder) == key) & (ds.field(kind) == body.licence_type),
        )
        if table.num_rows == 0:
            return False, snap.version
        in_force = pc.or_kleene(pc.is_null(table[until]), pc.greater_equal(table[until], today))
        states = pa.array(list(ref.yes_values), pa.string())
        valid_state = pc.or_kleene(
            pc.is_null(table[state]), pc.is_in(table[state], value_set=states)
        )
        return bool(pc.any(pc.and_kleene(in_force, valid_state)).as_py()), snap.version

    return _answer(
        ex, call, subject=LICENCE, with_key=False, check=f"licence:{body.licence_type}",
        key=body.uscc, key_field="uscc", decide=decide, case=body,
    )  # fmt: skip
