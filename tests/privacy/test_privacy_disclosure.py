"""What a served row shows together: birth dates beside masked IDs, status fields, name length."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privacy import InvalidPrivacyParameter, MaskKind
from privacy.disclosure import (
    BirthDateShown,
    DisclosureRules,
    ServedField,
    Treatment,
    parse_birth_date,
    plan_fields,
    served_value,
)
from privacy.masking import NameMask

BIRTH = date(1987, 3, 15)
TODAY = date(2026, 3, 3)
MASKED_ID = ServedField("身份证号", MaskKind.ID_NUMBER)
RAW_ID = ServedField("身份证号", None, raw_granted=True)
# 出生日期 as the person theme declares it: not personal, so granted raw by default.
DEFAULT_BIRTH = ServedField("出生日期", None)
MASKED_BIRTH = ServedField("出生日期", MaskKind.GENERIC)
RAW_BIRTH = ServedField("出生日期", None, raw_granted=True)


def _shown(fields: list[ServedField], name: str, value: object, **rules: object) -> object:
    chosen = DisclosureRules(**rules)  # type: ignore[arg-type]
    plan = plan_fields(fields, chosen)[name]
    return served_value(plan, value, chosen, on=TODAY)


@pytest.mark.parametrize(
    "birth", [DEFAULT_BIRTH, MASKED_BIRTH], ids=["granted-by-default", "granted-masked"]
)
def test_birth_date_beside_a_masked_id_number_is_only_its_year(birth: ServedField) -> None:
    plans = plan_fields([MASKED_ID, birth])
    assert plans["出生日期"].treatment is Treatment.GENERALISE
    assert "身份证号" in (plans["出生日期"].reason or "")
    assert _shown([MASKED_ID, birth], "出生日期", BIRTH) == "1987"
    assert _shown([MASKED_ID, birth], "出生日期", "1987-03-15") == "1987"


def test_any_field_masked_as_an_id_number_counts_as_a_masked_id() -> None:
    other = ServedField("母亲身份证号", MaskKind.ID_NUMBER)
    assert plan_fields([other, DEFAULT_BIRTH])["出生日期"].treatment is Treatment.GENERALISE


def test_birth_date_granted_raw_is_shown_in_full_beside_a_masked_id() -> None:
    plans = plan_fields([MASKED_ID, RAW_BIRTH])
    assert plans["出生日期"].treatment is Treatment.RAW
    assert _shown([MASKED_ID, RAW_BIRTH], "出生日期", BIRTH) == BIRTH


def test_raw_granted_but_still_masked_birth_date_is_generalised() -> None:
    # A mask the view forces (an item misdeclared) wins over the grant's raw.
    forced = ServedField("出生日期", MaskKind.GENERIC, raw_granted=True)
    assert plan_fields([MASKED_ID, forced])["出生日期"].treatment is Treatment.GENERALISE


@pytest.mark.parametrize(
    "others", [[], [RAW_ID]], ids=["no-id-number", "id-number-raw"]
)  # fmt: skip
def test_birth_date_shown_as_granted_when_no_id_number_is_masked(
    others: list[ServedField],
) -> None:
    assert plan_fields([*others, DEFAULT_BIRTH])["出生日期"].treatment is Treatment.RAW


def test_a_masked_birth_date_is_generalised_rather_than_starred() -> None:
    plan = plan_fields([MASKED_BIRTH])["出生日期"]
    assert plan.treatment is Treatment.GENERALISE
    assert "身份证号" not in (plan.reason or "")
    assert _shown([MASKED_BIRTH], "出生日期", BIRTH) == "1987"


@pytest.mark.parametrize(
    ("birth", "width", "cap", "expected"),
    [
        pytest.param(BIRTH, 10, 80, "30-39", id="thirty-eight"),
        pytest.param(date(1940, 1, 1), 10, 80, "80+", id="capped"),
        pytest.param(date(1940, 1, 1), 5, None, "85-89", id="no-cap"),
        pytest.param(date(1996, 3, 4), 10, 80, "20-29", id="day-before-birthday"),
    ],
)
def test_age_band_option(birth: date, width: int, cap: int | None, expected: str) -> None:
    shown = _shown(
        [MASKED_ID, DEFAULT_BIRTH], "出生日期", birth,
        birth_date=BirthDateShown.AGE_BAND, age_band_width=width, age_band_cap=cap,
    )  # fmt: skip
    assert shown == expected


def test_age_band_needs_the_day_of_the_answer() -> None:
    rules = DisclosureRules(birth_date=BirthDateShown.AGE_BAND)
    plan = plan_fields([MASKED_ID, DEFAULT_BIRTH], rules)["出生日期"]
    with pytest.raises(InvalidPrivacyParameter):
        served_value(plan, BIRTH, rules)


@pytest.mark.parametrize("name", ["婚姻状况", "政治面貌", "是否在世", "残疾等级", "民族"])
def test_category_field_granted_masked_is_withheld_never_starred(name: str) -> None:
    plan = plan_fields([ServedField(name, MaskKind.GENERIC)])[name]
    assert plan.treatment is Treatment.WITHHOLD
    assert "原文授权" in (plan.reason or "")
    with pytest.raises(ValueError, match="withheld"):
        served_value(plan, "已婚")


@pytest.mark.parametrize(
    "field",
    [ServedField("婚姻状况", None, raw_granted=True), ServedField("婚姻状况", MaskKind.NONE)],
    ids=["granted-raw", "not-personal"],
)
def test_category_field_shown_when_not_masked(field: ServedField) -> None:
    plan = plan_fields([field])["婚姻状况"]
    assert plan.treatment is Treatment.RAW and served_value(plan, "已婚") == "已婚"


def test_other_masked_fields_keep_their_convention() -> None:
    fields = [MASKED_ID, ServedField("户籍地址", MaskKind.ADDRESS), ServedField("备注", None)]
    plans = plan_fields(fields)
    assert plans["户籍地址"].treatment is Treatment.MASK
    assert served_value(plans["身份证号"], "110101198001010117") == "1***************17"
    assert served_value(plans["备注"], "无") == "无"


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        pytest.param(NameMask.FIXED, ["李**", "张**", "欧**"], id="fixed"),
        pytest.param(NameMask.PER_CHARACTER, ["李*", "张**", "欧***"], id="per-character"),
    ],
)
def test_names_are_masked_in_the_rules_style(style: NameMask, expected: list[str]) -> None:
    rules = DisclosureRules(name_mask=style)
    plan = plan_fields([ServedField("姓名", MaskKind.NAME)], rules)["姓名"]
    assert [served_value(plan, n, rules) for n in ("李四", "张三丰", "欧阳娜娜")] == expected


def test_missing_values_stay_missing() -> None:
    plans = plan_fields([MASKED_ID, DEFAULT_BIRTH, ServedField("姓名", MaskKind.NAME)])
    assert all(served_value(p, None, on=TODAY) is None for p in plans.values())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1987-03-15", BIRTH), ("19870315", BIRTH), ("1987/3/15", BIRTH), ("1987.03.15", BIRTH),
        ("1987年3月15日", BIRTH), (" 1987-03-15 ", BIRTH), (datetime(1987, 3, 15, 8), BIRTH),
        ("1987-02-30", None), ("1987-03", None), ("1987/3.15", None), ("1987315", None),
        ("不详", None), (19870315, None),
    ],
    ids=repr,
)  # fmt: skip
def test_birth_dates_are_read_in_the_forms_departments_send(
    value: object, expected: date | None
) -> None:
    assert parse_birth_date(value) == expected


def test_an_unreadable_birth_date_is_never_shown_as_it_is() -> None:
    assert _shown([MASKED_ID, DEFAULT_BIRTH], "出生日期", "87年3月") is None


KINDS = st.sampled_from([None, MaskKind.NONE, MaskKind.GENERIC, MaskKind.NAME, MaskKind.ADDRESS])
OTHER_FIELDS = st.lists(
    st.builds(
        ServedField, st.sampled_from(["姓名", "性别", "户籍地址", "婚姻状况", "参保状态"]),
        KINDS, st.booleans(),
    ),
    max_size=5, unique_by=lambda f: f.name,
)  # fmt: skip


@given(
    others=OTHER_FIELDS,
    birth_kind=st.sampled_from([None, MaskKind.NONE, MaskKind.GENERIC, MaskKind.NAME]),
    shown=st.sampled_from(list(BirthDateShown)),
    birth=st.dates(date(1900, 1, 1), TODAY),
)
def test_a_full_birth_date_never_sits_beside_a_masked_id_unless_granted_raw(
    others: list[ServedField], birth_kind: MaskKind | None, shown: BirthDateShown, birth: date
) -> None:
    fields = [MASKED_ID, *others, ServedField("出生日期", birth_kind)]
    rules = DisclosureRules(birth_date=shown)
    plans = plan_fields(fields, rules)
    value = served_value(plans["出生日期"], birth.isoformat(), rules, on=TODAY)
    if shown is BirthDateShown.YEAR:
        assert value == f"{birth.year:04d}"
    else:
        assert re.fullmatch(r"\d+-\d+|80\+", str(value))
    for plan in plans.values():  # and no status field is ever starred
        if plan.name in ("婚姻状况", "参保状态"):
            assert plan.treatment in (Treatment.RAW, Treatment.WITHHOLD)
