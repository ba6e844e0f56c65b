"""Working days on the Chinese holiday calendar, for review deadlines.

``chinese-calendar`` knows the State Council's holidays and swapped working weekends for the
years it ships. For later years a steward imports the State Council's yearly notice
(``govshare calendar import``, see ``docs/calendar.md``); single days can also be listed in
settings (``extra_holidays`` / ``extra_workdays``). Where nothing covers a day, weekends and the
fixed-date statutory holidays are the days off, and every deadline reaching such a day is
*provisional*: the lunar holidays (春节, 清明, 端午, 中秋) and the swapped weekends are unknown,
so a 10-working-day deadline could be a week early.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

# Fixed-date statutory holidays (全国年节及纪念日放假办法, 2025 revision); the lunar ones
# (春节, 清明, 端午, 中秋) move each year and must come from the package or a notice.
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}

PROVISIONAL_NOTE = "（暂定，节假日安排未发布）"


@dataclass(frozen=True)
class Deadline:
    """A due date and whether the calendar knew every day counted to reach it."""

    due: date
    provisional: bool

    def label(self) -> str:
        """The date as people read it, with the provisional note when it applies."""
        return self.due.isoformat() + (PROVISIONAL_NOTE if self.provisional else "")


class WorkCalendar:
    """Decides whether a day is a working day.

    Precedence: days listed in settings, then imported notices (a notice's year is known
    whole: days it does not name follow the weekday rule), then the package, then the
    weekend-and-fixed-holiday fallback.
    """

    def __init__(
        self,
        *,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        notice_years: Iterable[int] = (),
        notice_holidays: Iterable[date] = (),
        notice_workdays: Iterable[date] = (),
    ):
        self._holidays = frozenset(extra_holidays)
        self._workdays = frozenset(extra_workdays)
        self._notice_years = frozenset(notice_years)
        self._notice_holidays = frozenset(notice_holidays)
        self._notice_workdays = frozenset(notice_workdays)

    def is_workday(self, day: date) -> bool:
        if day in self._holidays:
            return False
        if day in self._workdays:
            return True
        if day in self._notice_holidays:
            return False
        if day in self._notice_workdays:
            return True
        if day.year in self._notice_years:
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS

    def knows(self, day: date) -> bool:
        """Whether an official arrangement covers ``day`` (otherwise the answer is a guess)."""
        if day.year in self._notice_years or day in self._holidays or day in self._workdays:
            return True
        if day in self._notice_holidays or day in self._notice_workdays:
            return True
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def knows_span(self, start: date, end: date) -> bool:
        """Whether every day after ``start`` up to and including ``end`` is known."""
        current = start
        while current < end:
            current += timedelta(days=1)
            if not self.knows(current):
                return False
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

    def deadline(self, start: date, days: int) -> Deadline:
        """``add_workdays`` that also says whether the count crossed a day nobody published."""
        due = self.add_workdays(start, days)
        return Deadline(due=due, provisional=not self.knows_span(start, due))

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end <= start``)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count
