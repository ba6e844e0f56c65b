"""What every catalogue operation runs with: a session, the settings, a clock, an actor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from catalog.domain import Role
from catalog.workdays import WorkCalendar
from infra.settings import Settings

# Deadlines are counted in Beijing time: a demand submitted at 23:30 UTC is next day there.
CHINA_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who triggers an operation: a steward of the data authority or a department."""

    role: Role
    department_code: str | None
    name: str

    @property
    def is_steward(self) -> bool:
        return self.role is Role.STEWARD

    @classmethod
    def steward(cls, name: str = "steward", department_code: str | None = None) -> Actor:
        return cls(role=Role.STEWARD, department_code=department_code, name=name)

    @classmethod
    def department(cls, code: str, name: str | None = None) -> Actor:
        return cls(role=Role.DEPARTMENT, department_code=code, name=name or f"dept:{code}")


@dataclass
class CatalogContext:
    """A unit of work over the catalogue; the clock is injectable so tests can travel in time."""

    session: Session
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    # Reads imported holiday notices (``catalog.workdays_notices.load_calendar``); the store
    # passes it, so this module needs nothing above it.
    calendar_loader: Callable[[CatalogContext], WorkCalendar] | None = None
    _calendar: WorkCalendar | None = field(default=None, init=False, repr=False)

    @property
    def calendar(self) -> WorkCalendar:
        """The working-day calendar: settings, imported holiday notices, then the package.

        Loaded on first use, once per unit of work, so a unit that never counts a deadline
        never reads the notices.
        """
        if self._calendar is None:
            self._calendar = (
                self.calendar_loader(self)
                if self.calendar_loader is not None
                else WorkCalendar(
                    extra_holidays=self.settings.extra_holidays,
                    extra_workdays=self.settings.extra_workdays,
                )
            )
        return self._calendar

    @calendar.setter
    def calendar(self, calendar: WorkCalendar) -> None:
        self._calendar = calendar

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """Today in China, which is the calendar review deadlines are counted on."""
        return self.now().astimezone(CHINA_TZ).date()
