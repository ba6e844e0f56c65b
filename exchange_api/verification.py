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

import pyarrow.compute as pc
import pyarrow.dataset as ds

from catalog.context import CHINA_TZ
from exchange_api import quotas
from exchange_api.access import authorise_data_call
from exchange_api.data_schemas import (
    CheckCase,
    IdentityCheckIn,
    LicenceCheckIn,
    PersonCheck,
    PersonCheckIn,
    VerificationOut,
)
from exchange_api.exceptions import FieldMasked
from exchange_api.profiles import evidence
from exchange_api.runtime import DataCall, Exchange, ResourceView, key_problems, normalise_key
from pipelines.themes.spec import PERSON

E_LICENCES = "000008001/000001"  # 电子证照信息, the 电子证照 base library
LICENCE_FIELDS = ("持证主体代码", "证照类型", "有效期至", "证照状态")
PERSON_FIELDS = {
    PersonCheck.ALIVE: "是否在世",
    PersonCheck.MARRIED: "婚姻状况",
    PersonCheck.INSURED: "参保状态",
}


def _same_name(a: Any, b: str) -> bool:
    if not isinstance(a, str):
        return False
    return unicodedata.normalize("NFC", a).strip() == unicodedata.normalize("NFC", b).strip()


def _answer(
    ex: Exchange, call: DataCall, *, resource_code: str, fields: Sequence[str], check: str,
    key: str, key_field: str, decide: Any, case: CheckCase, shown_from: str | None = None,
) -> VerificationOut:  # fmt: skip
    """Authorise on ``fields``, count the call, let ``decide(view, key)`` answer, log it.

    ``shown_from`` is the field whose value the answer discloses (婚姻状况 for "married"): if
    the grant delivers it masked, the 核验 is refused, because asking it of every subject
    would undo the mask. Masking wins; a 核验 of that field needs raw access to it.
    """
    with ex.audited(call) as recorder, quotas.alerting(ex.catalog):
        recorder.record.case_ref = case.case_ref
        recorder.record.business_matter = case.business_matter
        with ex.catalog.unit() as ctx:
            view = ex.view(ctx, resource_code)
            recorder.uses(view)
            wanted = normalise_key("uscc" if key_field == "uscc" else "ric", key)
            key_problems(
                "uscc" if key_field == "uscc" else "ric", [wanted], field=key_field,
                location="body",
            )  # fmt: skip
            grant = authorise_data_call(
                ctx, actor=call.actor, resource=view, purpose=call.purpose, fields=fields
            )
            recorder.uses(view, grant)
            if shown_from is not None and view.mask_kind(shown_from, str(grant.fields[shown_from])):
                raise FieldMasked(
                    f"核验依据的字段「{shown_from}」按授权脱敏提供，核验结果会泄露该字段："
                    "需取得该字段的原文授权 (the answer would reveal a field granted masked)",
                    details=[{"field": shown_from, "reason": "granted masked"}],
                )
            ex.limiter.hit(grant)
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
        result, version = decide(view, wanted, today)
        payload = {"check": check, "result": result}
        ref = ex.commit(
            recorder, fields=[], rows=0, result=payload, subjects=[wanted],
            table_version=version,
        )  # fmt: skip
    return VerificationOut(check=check, result=result, evidence=evidence(ref))


def _person_row(ex: Exchange, view: ResourceView, key: str, column: str) -> tuple[Any, int]:
    assert view.key is not None
    version, rows = ex.lake.lookup(view.table, key_column=view.key, keys=[key], columns=[column])
    row = rows.get(key)
    return (row.get(column) if row else None), version


def verify_identity(ex: Exchange, call: DataCall, body: IdentityCheckIn) -> VerificationOut:
    """身份核验: the ID number and the name belong to the same person."""

    def decide(view: ResourceView, key: str, _today: date) -> tuple[bool, int]:
        name, version = _person_row(ex, view, key, "姓名")
        return _same_name(name, body.name), version

    return _answer(
        ex, call, resource_code=PERSON, fields=["身份证号", "姓名"], check="identity",
        key=body.id_number, key_field="id_number", decide=decide, case=body,
    )  # fmt: skip


def verify_person(ex: Exchange, call: DataCall, body: PersonCheckIn) -> VerificationOut:
    """人员状态核验: alive, married or insured, from 一人一档."""
    column = PERSON_FIELDS[body.check]

    def decide(view: ResourceView, key: str, _today: date) -> tuple[bool, int]:
        value, version = _person_row(ex, view, key, column)
        if body.check is PersonCheck.ALIVE:
            return value is True, version
        if body.check is PersonCheck.MARRIED:
            return value == "已婚", version
        return value in ex.config.insured_values, version

    return _answer(
        ex, call, resource_code=PERSON, fields=["身份证号", column], check=str(body.check),
        key=body.id_number, key_field="id_number", decide=decide, case=body, shown_from=column,
    )  # fmt: skip


def verify_licence(ex: Exchange, call: DataCall, body: LicenceCheckIn) -> VerificationOut:
    """证照核验 (一证一接口): a licence of the type, held by the enterprise, valid today."""

    def decide(view: ResourceView, key: str, today: date) -> tuple[bool, int]:
        snap = ex.lake.snapshot(view.table)
        holder, kind, until, state = LICENCE_FIELDS
        # Values are bound into an Arrow expression, never spliced into a query text.
        table = snap.dataset().to_table(
            columns=[until, state],
            filter=(ds.field(holder) == key) & (ds.field(kind) == body.licence_type),
        )
        if table.num_rows == 0:
            return False, snap.version
        in_force = pc.or_kleene(pc.is_null(table[until]), pc.greater_equal(table[until], today))
        valid_state = pc.or_kleene(
            pc.is_null(table[state]), pc.is_in(table[state], value_set=_states(ex))
        )
        return bool(pc.any(pc.and_kleene(in_force, valid_state)).as_py()), snap.version

    return _answer(
        ex, call, resource_code=E_LICENCES, fields=list(LICENCE_FIELDS),
        check=f"licence:{body.licence_type}", key=body.uscc, key_field="uscc", decide=decide,
        case=body,
    )  # fmt: skip


def _states(ex: Exchange) -> Any:
    import pyarrow as pa

    return pa.array(ex.config.valid_licence_states, pa.string())
