"""What a served personal row may show together, so that one field does not undo another's mask.

A mask protects one field; a served row shows several side by side. A masked ID number
``1***************12`` hides its eight birth-date digits only if the row does not print the
birth date beside it: with the full date, the region an address gives and the two kept digits
(the last is the check digit), about ten candidate numbers remain. A status such as 婚姻状况
masked to ``**`` tells nothing, and a longer one masked by its ends tells its value from a
short code list. GB/T 37964-2019 calls birth date, sex and region quasi-identifiers (准标识符)
and answers them by generalisation (泛化) and suppression (抑制), not by per-character masking.

:func:`plan_fields` decides once per call how each served field is shown, from the mask the
grant leaves it and what kind of field it is; :func:`served_value` applies the decision to one
value. Pure functions, no catalogue: every place that serves rows applies the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from privacy.errors import InvalidPrivacyParameter
from privacy.generalise import age_band, generalise_birth_date
from privacy.masking import MaskKind, NameMask, mask

BIRTH_DATE_WORDS: tuple[str, ...] = ("出生日期", "出生年月", "出生时间", "生日")
"""Words in a field name that say it holds a birth date (a quasi-identifier)."""

CATEGORY_WORDS: tuple[str, ...] = (
    "婚姻", "状况", "状态", "类别", "类型", "等级", "是否", "标志", "性别", "民族",
    "政治面貌", "宗教", "信仰", "血型", "学历", "文化程度", "兵役",
)  # fmt: skip
"""Words in a field name that say its values come from a short code list (状况, 类别...):
masking such a value shows either nothing (``**``) or, through its ends and length, the value."""

AGE_BAND_CAP = 80
"""Ages at or above this share one band (``80+``): the very old are few and easy to single out
(top coding, 顶层编码)."""

_NO_MASK = (None, MaskKind.NONE)
_DATE_FORMS = (
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"),  # 1987/3/15, 1987.03.15
    re.compile(r"(\d{4})(年)(\d{1,2})月(\d{1,2})日?"),  # 1987年3月15日
)


class Treatment(StrEnum):
    """How one served field is shown."""

    RAW = "raw"  # as stored
    MASK = "mask"  # through its masking convention
    GENERALISE = "generalise"  # a birth date as a year or an age band
    WITHHOLD = "withhold"  # left out of the response, with the reason


class BirthDateShown(StrEnum):
    """What a generalised birth date becomes (出生日期泛化方式)."""

    YEAR = "year"  # "1987"
    AGE_BAND = "age_band"  # "30-39" on the day of the call


@dataclass(frozen=True)
class DisclosureRules:
    """The deployment's choices; defaults are the ones documented in docs/privacy.md."""

    name_mask: NameMask = NameMask.FIXED
    birth_date: BirthDateShown = BirthDateShown.YEAR
    age_band_width: int = 10
    age_band_cap: int | None = AGE_BAND_CAP


@dataclass(frozen=True)
class ServedField:
    """One field a call will serve, as the grant leaves it.

    ``mask_kind`` is the convention the field would be masked by, None or ``MaskKind.NONE``
    when it is shown as stored. ``raw_granted`` says the grant gave raw access to it *as
    personal data*: an item declared non-personal is delivered raw by default, which is no
    decision about birth dates, so only an explicit raw grant of a personal item counts.
    """

    name: str
    mask_kind: MaskKind | None
    raw_granted: bool = False


@dataclass(frozen=True)
class FieldPlan:
    """How one field is shown; ``reason`` (Chinese, for the caller) when not as granted."""

    name: str
    treatment: Treatment
    mask_kind: MaskKind | None = None
    reason: str | None = None


def is_birth_date_field(name: str) -> bool:
    return any(word in name for word in BIRTH_DATE_WORDS)


def is_category_field(name: str) -> bool:
    return any(word in name for word in CATEGORY_WORDS)


def _generalised_reason(rules: DisclosureRules, *, beside_id: bool) -> str:
    shown = "出生年份" if rules.birth_date is BirthDateShown.YEAR else "年龄段"
    why = "与脱敏的身份证号同时提供，为免还原身份证号，" if beside_id else "按脱敏授权，"
    return (
        f"{why}出生日期泛化为{shown}；需要完整日期，须提供方将其登记为个人信息并授权原文 "
        f"(birth date generalised to {rules.birth_date.value})"
    )


WITHHELD_CATEGORY = (
    "状态、类别类信息项按脱敏授权不予提供：遮盖后无意义，部分遮盖又可能暴露取值；"
    "需要使用请申请该信息项的原文授权 (category field granted masked: withheld)"
)
WITHHELD_BIRTH_DATE = "出生日期无法识别，无法泛化，不予提供 (birth date not recognised: withheld)"


def plan_fields(
    fields: Iterable[ServedField], rules: DisclosureRules | None = None
) -> dict[str, FieldPlan]:
    """Decide how each of a call's fields is shown, in the order given.

    - A birth date not granted raw is generalised when the row shows a masked ID number
      (any field masked by the ID-number convention) or when it would itself be masked.
    - A category field that would be masked is withheld: raw by grant, or not at all.
    - Everything else is shown as the grant leaves it (masked, or as stored).
    """
    rules = rules or DisclosureRules()
    chosen = list(fields)
    beside_id = any(f.mask_kind is MaskKind.ID_NUMBER for f in chosen)
    plans: dict[str, FieldPlan] = {}
    for f in chosen:
        masked = f.mask_kind not in _NO_MASK
        explicit_raw = f.raw_granted and not masked
        if is_birth_date_field(f.name) and not explicit_raw and (masked or beside_id):
            plans[f.name] = FieldPlan(
                f.name, Treatment.GENERALISE,
                reason=_generalised_reason(rules, beside_id=beside_id),
            )  # fmt: skip
        elif masked and is_category_field(f.name):
            plans[f.name] = FieldPlan(f.name, Treatment.WITHHOLD, reason=WITHHELD_CATEGORY)
        elif masked:
            plans[f.name] = FieldPlan(f.name, Treatment.MASK, mask_kind=f.mask_kind)
        else:
            plans[f.name] = FieldPlan(f.name, Treatment.RAW)
    return plans


def parse_birth_date(value: object) -> date | None:
    """A birth date from a date or the text forms departments send, or None.

    Accepts ISO 8601 (``1987-03-15``, ``19870315``, a timestamp), ``1987/3/15`` and
    ``1987年3月15日``; anything else (a partial date, free text) is not guessed at.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match is not None:
            try:
                return date(int(match[1]), int(match[3]), int(match[4]))
            except ValueError:
                return None
    return None


def generalised_birth_date(
    value: object, rules: DisclosureRules | None = None, *, on: date | None = None
) -> str | None:
    """A birth date as the rules generalise it, or None when it cannot be read.

    An age band needs ``on``, the day the answer is given, so that it is reproducible.
    """
    rules = rules or DisclosureRules()
    birth = parse_birth_date(value)
    if birth is None:
        return None
    if rules.birth_date is BirthDateShown.YEAR:
        return generalise_birth_date(birth, "year")
    if on is None:
        raise InvalidPrivacyParameter("on", "an age band needs the reference date")
    if birth > on:
        return None  # a birth date in the future is a data error, not an age
    return age_band(birth, on, rules.age_band_width, cap=rules.age_band_cap)


def plain_value(value: Any) -> Any:
    """A stored value as JSON carries it (and as masking reads it): dates in ISO 8601, money
    exact as a decimal string."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def served_value(
    plan: FieldPlan, value: Any, rules: DisclosureRules | None = None, *, on: date | None = None
) -> Any:
    """``value`` as ``plan`` shows it; a missing value stays missing.

    Raw values pass through unchanged (the caller renders them); masked ones are masked as
    text, names in the rules' style. A withheld field has no served value: asking for one is
    a programming error, since leaving the field out is the caller's part.
    """
    if plan.treatment is Treatment.WITHHOLD:
        raise ValueError(f"field {plan.name} is withheld and has no served value")
    if value is None or plan.treatment is Treatment.RAW:
        return value
    rules = rules or DisclosureRules()
    if plan.treatment is Treatment.GENERALISE:
        return generalised_birth_date(value, rules, on=on)
    assert plan.mask_kind is not None
    return mask(str(value), plan.mask_kind, **mask_options(plan, rules))


def mask_options(plan: FieldPlan, rules: DisclosureRules) -> dict[str, Any]:
    """The masker options a masked field takes from the deployment's rules (a name's style),
    shared by the per-value and the per-column (``privacy.columnar``) forms."""
    return {"style": rules.name_mask} if plan.mask_kind is MaskKind.NAME else {}
