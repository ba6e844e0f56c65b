"""Generalisation (泛化) of quasi-identifiers: exact values become coarser classes.

Birth dates become years or age bands and region codes lose their county or city digits, so more
people share each combination and k-anonymity rises (GB/T 37964-2019).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from privacy.errors import InvalidPrivacyParameter

RegionLevel = Literal["province", "city", "county"]
"""Levels of a GB/T 2260 行政区划代码: 2 province digits, 2 city digits, 2 county digits."""

BirthDateLevel = Literal["year", "month"]

_REGION_DIGITS_KEPT: dict[str, int] = {"province": 2, "city": 4, "county": 6}


def numeric_band(value: int, *, width: int, cap: int | None = None) -> str:
    """Put a non-negative integer in a band of ``width``, ``34`` → ``"30-39"``.

    With ``cap``, every value at or above it falls in one open band ``"80+"``, because the few
    people at the extremes (the very old, the very rich) are the easiest to single out.
    """
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise InvalidPrivacyParameter("width", "must be an integer >= 1")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
        raise InvalidPrivacyParameter("cap", "must be a non-negative integer or None")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidPrivacyParameter("value", "must be a non-negative integer")
    if cap is not None and value >= cap:
        return f"{cap}+"
    low = value - value % width
    high = low + width - 1
    if cap is not None:
        # The last closed band stops where the open band starts.
        high = min(high, cap - 1)
    return f"{low}-{high}"


def age_on(birth: date, on: date) -> int:
    """Age in completed years on ``on``; a 29 February birthday counts from 1 March."""
    if birth > on:
        raise InvalidPrivacyParameter("birth", "is after the reference date")
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_band(birth: date, on: date, width: int = 10, *, cap: int | None = None) -> str:
    """Age band on ``on`` (年龄段), e.g. ``"30-39"``; ``on`` is explicit so results reproduce."""
    return numeric_band(age_on(birth, on), width=width, cap=cap)


def birth_date_from_id(id_number: str, *, check_digit: bool = True) -> date:
    """Birth date carried in a 公民身份号码 (18 digits, or the old 15-digit form of the 1900s).

    With ``check_digit`` an 18-digit number must also pass its check, since a typo that breaks
    the check may have changed the date too. Errors never quote the number.
    """
    if not isinstance(id_number, str):
        raise InvalidPrivacyParameter("id_number", "must be a string")
    number = ric.compact(id_number)
    if not number.isascii():
        raise InvalidPrivacyParameter("id_number", "must contain only ASCII digits and X")
    try:
        if len(number) == 15 and number.isdigit():
            return date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
        if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
            raise InvalidPrivacyParameter("id_number", "must be 18 characters (or 15 digits)")
        if check_digit and ric.calc_check_digit(number) != number[17]:
            raise InvalidPrivacyParameter("id_number", "check digit does not match")
        return ric.get_birth_date(number)
    except (ValueError, ValidationError):
        raise InvalidPrivacyParameter("id_number", "does not contain a valid birth date") from None


def age_band_from_id(
    id_number: str, on: date, width: int = 10, *, cap: int | None = None, check_digit: bool = True
) -> str:
    """Age band of the holder of an ID number, so the number itself need not be shared."""
    return age_band(birth_date_from_id(id_number, check_digit=check_digit), on, width, cap=cap)


def generalise_birth_date(birth: date, level: BirthDateLevel = "year") -> str:
    """Coarsen a birth date to ``"1985"`` or ``"1985-03"``; the day is the most identifying part."""
    if level == "year":
        return f"{birth.year:04d}"
    if level == "month":
        return f"{birth.year:04d}-{birth.month:02d}"
    raise InvalidPrivacyParameter("level", "must be 'year' or 'month'")


def birth_year(birth: date) -> int:
    """Birth year alone, the usual generalisation of a birth date in shared extracts."""
    return birth.year


def truncate_region(code: str, level: RegionLevel) -> str:
    """Generalise a 6-digit region code to ``level``, ``330106`` → ``330100`` or ``330000``.

    The result is still a 6-digit code (the dropped digits become zeros) so columns keep their
    format and join with the GB/T 2260 table.
    """
    if level not in _REGION_DIGITS_KEPT:
        raise InvalidPrivacyParameter("level", "must be 'province', 'city' or 'county'")
    if not isinstance(code, str) or len(code) != 6 or not code.isascii() or not code.isdigit():
        raise InvalidPrivacyParameter("code", "must be a 6-digit region code")
    kept = _REGION_DIGITS_KEPT[level]
    return code[:kept] + "0" * (6 - kept)
