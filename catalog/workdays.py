"""Working days on the Chinese holiday calendar, for review deadlines.

``chinese-calendar`` knows the State Council's holidays and swapped working weekends for the
years it ships; for later years the deployment lists them in settings
(``extra_holidays`` / ``extra_workdays``); failing that, weekends and the fixed-date
statutory holidays are the days off.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar

# Fixed-date statutory holidays (全国年节及纪念日放假办法, 2025 revision); the lunar ones
# (春节, 清明, 端午, 中秋) move each year and must come from the package or the settings.
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


class WorkCalendar:
    """Decides whether a day is a working day; overrides win over the package's data."""

    def __init__(self, *, extra_holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()):
        self._holidays = frozenset(extra_holidays)
        self._workdays = frozenset(extra_workdays)

    def is_workday(self, day: date) -> bool:
        if day in self._holidays:
            return False
        if day in self._workdays:
            return True
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS

    def knows(self, day: date) -> bool:
        """Whether the official calendar covers ``day`` (otherwise the answer is provisional)."""
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return day in self._holidays or day in self._workdays
        return True

    def add_workdays(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
        if days < 0:
            raise ValueError("days must not be negative")
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end <= start``)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count
