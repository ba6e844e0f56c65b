"""Working days follow the Chinese holiday calendar, swapped working weekends included."""

from __future__ import annotations

from datetime import date

import pytest

from catalog.workdays import WorkCalendar


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # National Day 2025: Oct 1-8 off, Sun Sep 28 and Sat Oct 11 are working days.
        (date(2025, 9, 26), 10, date(2025, 10, 16)),
        (date(2025, 9, 26), 1, date(2025, 9, 28)),
        # Spring Festival 2026: Feb 15-23 off, Sat Feb 14 and Sat Feb 28 are working days.
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 14), 1, date(2026, 2, 24)),
        (date(2026, 3, 3), 10, date(2026, 3, 17)),
        (date(2026, 3, 3), 0, date(2026, 3, 3)),
    ],
    ids=["national-day", "swapped-sunday", "swapped-saturday", "spring-festival", "plain", "zero"],
)
def test_add_workdays_on_the_holiday_calendar(start: date, days: int, due: date) -> None:
    assert WorkCalendar().add_workdays(start, days) == due


def test_years_beyond_the_package_fall_back_to_weekends_and_fixed_holidays() -> None:
    calendar = WorkCalendar()
    assert not calendar.knows(date(2027, 1, 4))
    assert not calendar.is_workday(date(2027, 1, 1))  # 元旦, a Friday
    assert calendar.is_workday(date(2027, 1, 4))
    assert not calendar.is_workday(date(2027, 1, 9))  # Saturday


def test_configured_holidays_and_workdays_override_the_calendar() -> None:
    calendar = WorkCalendar(extra_holidays=[date(2027, 2, 8)], extra_workdays=[date(2027, 2, 6)])
    assert not calendar.is_workday(date(2027, 2, 8))
    assert calendar.is_workday(date(2027, 2, 6))
    assert calendar.knows(date(2027, 2, 8))


def test_workdays_between_counts_after_start_up_to_end() -> None:
    calendar = WorkCalendar()
    assert calendar.workdays_between(date(2025, 9, 30), date(2025, 10, 9)) == 1
    assert calendar.workdays_between(date(2025, 10, 9), date(2025, 10, 9)) == 0
