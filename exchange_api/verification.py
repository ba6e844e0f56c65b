"""核验 (verification): yes or no answers computed inside the platform, never the record.

The grant must cover the fields the answer is computed from (masked access is enough: the
caller sees none of them). Whether the key exists is not told apart from a "no": an unknown
ID number simply does not match.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any

import pyarrow.compute as pc
import pyarrow.dataset as ds

from catalog.context import CHINA_TZ
from exchange_api.access import authorise_data_call
from exchange_api.data_schemas import (
    IdentityCheckIn,
    LicenceCheckIn,
    PersonCheck,
    PersonCheckIn,
    VerificationOut,
)
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
    key: str, key_field: str, decide: Any,
) -> VerificationOut:  # fmt: skip
    """Authorise on ``fields``, let ``decide(view, key)`` compute the answer, log it."""
    with ex.audited(call) as recorder:
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
            ex.limiter.hit(grant)
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
        key=body.id_number, key_field="id_number", decide=decide,
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
        key=body.id_number, key_field="id_number", decide=decide,
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
    )  # fmt: skip


def _states(ex: Exchange) -> Any:
    import pyarrow as pa

    return pa.array(ex.config.valid_licence_states, pa.string())
