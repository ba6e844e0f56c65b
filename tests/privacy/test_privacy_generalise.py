"""Generalisation: age bands, birth dates from ID numbers and region truncation."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from privacy import (
    InvalidPrivacyParameter,
    age_band,
    age_band_from_id,
    age_on,
    birth_date_from_id,
    generalise_birth_date,
    numeric_band,
    truncate_region,
)

TODAY = date(2024, 6, 30)


def make_id_number(birth: date, *, region: str = "330106", sequence: str = "123") -> str:
    """An 18-digit 公民身份号码 with a valid check digit."""
    body = f"{region}{birth:%Y%m%d}{sequence}"
    return body + ric.calc_check_digit(body + "0")


def independent_age(birth: date, on: date) -> int:
    """Count birthdays passed one by one; 29 February birthdays fall on 1 March."""
    years = 0
    while True:
        year = birth.year + years + 1
        try:
            birthday = birth.replace(year=year)
        except ValueError:
            birthday = date(year, 3, 1)
        if birthday > on:
            return years
        years += 1


@pytest.mark.parametrize(
    ("birth", "on", "width", "cap", "expected"),
    [
        (date(1990, 3, 7), date(2024, 3, 6), 10, None, "30-39"),
        (date(1990, 3, 7), date(2020, 3, 6), 10, None, "20-29"),
        (date(1990, 3, 7), date(2020, 3, 7), 10, None, "30-39"),
        (date(1990, 3, 7), date(2024, 3, 7), 5, None, "30-34"),
        (date(2024, 6, 30), TODAY, 10, None, "0-9"),
        (date(1939, 1, 1), TODAY, 10, 80, "80+"),
        (date(1946, 1, 1), TODAY, 10, 80, "70-79"),
        (date(1951, 1, 1), TODAY, 10, 75, "70-74"),
    ],
    ids=str,
)
def test_age_band(birth: date, on: date, width: int, cap: int | None, expected: str) -> None:
    assert age_band(birth, on, width, cap=cap) == expected


def test_age_on_counts_a_leap_day_birthday_from_first_of_march() -> None:
    assert age_on(date(2000, 2, 29), date(2021, 2, 28)) == 20
    assert age_on(date(2000, 2, 29), date(2021, 3, 1)) == 21
    assert age_on(date(2000, 2, 29), date(2024, 2, 29)) == 24


def test_age_band_refuses_a_birth_after_the_reference_date() -> None:
    with pytest.raises(InvalidPrivacyParameter) as caught:
        age_band(date(2025, 1, 1), TODAY)
    assert caught.value.field == "birth"


@pytest.mark.parametrize("width", [0, -5, True], ids=repr)
def test_age_band_refuses_bad_widths(width: int) -> None:
    with pytest.raises(InvalidPrivacyParameter):
        age_band(date(1990, 1, 1), TODAY, width)


@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    on=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    width=st.integers(1, 25),
)
def test_age_band_contains_the_age(birth: date, on: date, width: int) -> None:
    if birth > on:
        birth, on = on, birth
    age = independent_age(birth, on)

    assert age_on(birth, on) == age
    low, high = (int(part) for part in age_band(birth, on, width).split("-"))
    assert low <= age <= high
    assert high - low + 1 == width
    assert low % width == 0


@given(value=st.integers(0, 500), width=st.integers(1, 20), cap=st.integers(0, 200))
def test_numeric_band_with_cap_never_reaches_past_the_cap(value: int, width: int, cap: int) -> None:
    band = numeric_band(value, width=width, cap=cap)

    if value >= cap:
        assert band == f"{cap}+"
    else:
        low, high = (int(part) for part in band.split("-"))
        assert low <= value <= high < cap


def test_birth_date_from_an_18_digit_id_number() -> None:
    assert birth_date_from_id(make_id_number(date(1985, 3, 7))) == date(1985, 3, 7)


def test_birth_date_from_an_id_number_ending_in_x() -> None:
    assert birth_date_from_id("11010519491231002X") == date(1949, 12, 31)
    assert birth_date_from_id("11010519491231002x") == date(1949, 12, 31)


def test_birth_date_from_a_15_digit_id_number() -> None:
    assert birth_date_from_id("330106850307123") == date(1985, 3, 7)


def test_age_band_from_id_number() -> None:
    assert age_band_from_id(make_id_number(date(1985, 3, 7)), TODAY) == "30-39"


@pytest.mark.parametrize(
    "id_number",
    [
        "330106198503071231",  # wrong check digit
        "330106198513071238",  # month 13
        "33010619850307123",  # too short
        "33010619850307123A",
        "３３０１０６１９８５０３０７１２３４",  # full-width digits
        "",
    ],
    ids=["check-digit", "month-13", "short", "letter", "full-width", "empty"],
)
def test_birth_date_from_id_refuses_bad_numbers_without_quoting_them(id_number: str) -> None:
    with pytest.raises(InvalidPrivacyParameter) as caught:
        birth_date_from_id(id_number)
    assert caught.value.field == "id_number"
    if id_number:
        assert id_number not in str(caught.value)
        assert id_number[:6] not in str(caught.value)


def test_birth_date_from_id_can_skip_the_check_digit() -> None:
    assert birth_date_from_id("330106198503071231", check_digit=False) == date(1985, 3, 7)


@pytest.mark.parametrize(
    ("level", "expected"),
    [("province", "330000"), ("city", "330100"), ("county", "330106")],
)
def test_truncate_region(level: str, expected: str) -> None:
    assert truncate_region("330106", level) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["33010", "3301066", "33010a", "３３０１０６", 330106], ids=repr)
def test_truncate_region_refuses_malformed_codes(code: str) -> None:
    with pytest.raises(InvalidPrivacyParameter) as caught:
        truncate_region(code, "city")
    assert caught.value.field == "code"


def test_truncate_region_refuses_unknown_levels() -> None:
    with pytest.raises(InvalidPrivacyParameter) as caught:
        truncate_region("330106", "township")  # type: ignore[arg-type]
    assert caught.value.field == "level"


@given(code=st.from_regex(r"\A[0-9]{6}\Z"))
def test_truncating_regions_only_ever_coarsens(code: str) -> None:
    city = truncate_region(code, "city")
    province = truncate_region(code, "province")

    assert truncate_region(code, "county") == code
    assert city == code[:4] + "00"
    assert province == code[:2] + "0000"
    assert truncate_region(city, "province") == province
    assert truncate_region(city, "city") == city


@pytest.mark.parametrize(("level", "expected"), [("year", "1985"), ("month", "1985-03")])
def test_generalise_birth_date(level: str, expected: str) -> None:
    assert generalise_birth_date(date(1985, 3, 7), level) == expected  # type: ignore[arg-type]
