"""The State Council's yearly holiday notice as data: read, checked, stored, applied.

Each November the General Office of the State Council publishes the next year's holidays and
swapped working days (国务院办公厅关于某年部分节假日安排的通知). ``chinese-calendar`` learns them
only in a later release; a steward imports the notice instead (``govshare calendar import``)
and every open deadline is counted again at once. The file format is documented in
``docs/calendar.md``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator
from pydantic import ValidationError as PydanticValidationError

from catalog import auth, repository
from catalog.context import CHINA_TZ, Actor, CatalogContext
from catalog.domain import DemandState
from catalog.errors import ValidationError
from catalog.history import record
from catalog.models import Demand, HolidayNotice
from catalog.workdays import Deadline, WorkCalendar
from infra.settings import Settings

# A notice may reach a few days into the neighbouring years (元旦 starting on 31 December,
# a swapped Sunday at the end of the previous year); a date further away is a typing error.
_SLACK = timedelta(days=31)
_FORMATS = (".toml", ".json")


class HolidayPeriodIn(BaseModel):
    """One holiday of the notice: its days off and the weekend days worked for it (调休上班)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=20)]
    start: date
    end: date
    workdays: list[date] = Field(default_factory=list)

    def days_off(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


class HolidayNoticeIn(BaseModel):
    """A whole notice: the year it arranges and its holidays."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    year: Annotated[StrictInt, Field(ge=2000, le=2100)]
    title: Annotated[str, Field(max_length=200)] = ""
    source: Annotated[str, Field(max_length=500)] = ""
    holidays: list[HolidayPeriodIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: list[str] = []
        first, last = date(self.year, 1, 1), date(self.year, 12, 31)
        off: dict[date, str] = {}
        worked: dict[date, str] = {}
        for period in self.holidays:
            where = f"{period.name}"
            if period.end < period.start:
                problems.append(f"{where}：结束日期早于开始日期 (end before start)")
                continue
            if not (first <= period.start <= last or first <= period.end <= last):
                problems.append(
                    f"{where}：{period.start}至{period.end}不在{self.year}年 "
                    "(holiday outside the notice's year)"
                )
            if (period.end - period.start).days > 15:
                problems.append(f"{where}：假期超过 16 天，请检查日期 (longer than 16 days)")
            for day in period.days_off():
                if day in off:
                    problems.append(f"{where}：{day} 与{off[day]}重复 (day listed twice)")
                off[day] = period.name
            for day in period.workdays:
                if not first - _SLACK <= day <= last + _SLACK:
                    problems.append(f"{where}：调休上班日 {day} 不在{self.year}年前后 (far away)")
                if day.weekday() < 5:
                    problems.append(
                        f"{where}：调休上班日 {day} 不是周六或周日 (a swapped working day is a "
                        "weekend day)"
                    )
                if day in worked:
                    problems.append(f"{where}：调休上班日 {day} 重复 (day listed twice)")
                worked[day] = period.name
        for day in sorted(set(off) & set(worked)):
            problems.append(f"{day} 既是放假日又是调休上班日 (both a day off and a working day)")
        if problems:
            raise ValueError("；".join(problems))
        return self

    def days_off(self) -> list[date]:
        return sorted(day for period in self.holidays for day in period.days_off())

    def workdays(self) -> list[date]:
        return sorted(day for period in self.holidays for day in period.workdays)


class RecomputedDeadline(BaseModel):
    """An open demand whose due date moved because the calendar learned a year."""

    demand_code: str
    before: date
    after: date
    provisional: bool


class HolidayNoticeOut(BaseModel):
    year: int
    title: str
    source: str
    holidays: list[HolidayPeriodIn]
    days_off: int
    workdays: int
    imported_by: str


class CalendarImportReport(BaseModel):
    """What an import did: the notice as stored and the deadlines it moved."""

    notice: HolidayNoticeOut
    replaced: bool
    dry_run: bool
    recomputed: list[RecomputedDeadline]


# ---- reading the file ------------------------------------------------------------------


def _field_path(location: Sequence[int | str]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "文件"


def read_notice(path: Path) -> HolidayNoticeIn:
    """Parse a notice file (TOML or JSON); every problem is reported, none is guessed away."""
    if path.suffix.lower() not in _FORMATS:
        raise ValidationError(
            f"节假日安排文件须为 .toml 或 .json：{path.name} (notice file must be TOML or JSON)"
        )
    try:
        raw = path.read_bytes()
    except OSError:
        raise ValidationError(f"无法读取文件 {path.name} (cannot read the file)") from None
    try:
        text = raw.decode("utf-8-sig")
        data: Any = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ValidationError(
            f"节假日安排文件 {path.name} 不是有效的 UTF-8 {path.suffix[1:].upper()}："
            f"{type(error).__name__} (unreadable notice file)"
        ) from None
    try:
        return HolidayNoticeIn.model_validate(data)
    except PydanticValidationError as error:
        details = [
            f"{_field_path(e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        ]
        raise ValidationError(
            f"节假日安排文件 {path.name} 有 {len(details)} 处问题 (invalid notice file)",
            details=details,
        ) from None


# ---- the calendar a context counts with ------------------------------------------------


def _stored_days(notice: HolidayNotice) -> tuple[list[date], list[date]]:
    parsed = [HolidayPeriodIn.model_validate(p) for p in notice.holidays]
    off = [day for p in parsed for day in p.days_off()]
    worked = [day for p in parsed for day in p.workdays]
    return off, worked


def calendar_for(settings: Settings, notices: Iterable[HolidayNotice]) -> WorkCalendar:
    """The settings' single days over the imported notices over the holiday package."""
    years: list[int] = []
    off: list[date] = []
    worked: list[date] = []
    for notice in notices:
        years.append(notice.year)
        notice_off, notice_worked = _stored_days(notice)
        off.extend(notice_off)
        worked.extend(notice_worked)
    return WorkCalendar(
        extra_holidays=settings.extra_holidays,
        extra_workdays=settings.extra_workdays,
        notice_years=years,
        notice_holidays=off,
        notice_workdays=worked,
    )


def load_calendar(ctx: CatalogContext) -> WorkCalendar:
    return calendar_for(ctx.settings, repository.holiday_notices(ctx.session))


# ---- deadlines of demands --------------------------------------------------------------


def _counted_from(demand: Demand) -> date:
    """The Beijing date a demand's deadline is counted from: the day it reached the provider."""
    moment = demand.routed_at or demand.submitted_at
    return moment.astimezone(CHINA_TZ).date()


def is_overdue(ctx: CatalogContext, demand: Demand) -> bool:
    """A conditional demand still unanswered after its working-day deadline (here, beside
    ``demand_deadline``, so the gap report need not import the demand services)."""
    return (
        demand.state is DemandState.PENDING
        and demand.due_date is not None
        and ctx.today() > demand.due_date
    )


def demand_deadline(ctx: CatalogContext, demand: Demand) -> Deadline | None:
    """The stored due date of a demand and whether the calendar vouches for it."""
    if demand.due_date is None:
        return None
    start = _counted_from(demand)
    return Deadline(
        due=demand.due_date, provisional=not ctx.calendar.knows_span(start, demand.due_date)
    )


def _moved_deadlines(
    ctx: CatalogContext, calendar: WorkCalendar
) -> list[tuple[Demand, RecomputedDeadline]]:
    """Open demands whose deadline, counted again on ``calendar``, falls on another day."""
    moved = []
    for demand in repository.demands(ctx.session, states=[DemandState.PENDING]):
        if demand.due_date is None:
            continue
        deadline = calendar.deadline(_counted_from(demand), ctx.settings.review_working_days)
        if deadline.due != demand.due_date:
            change = RecomputedDeadline(
                demand_code=demand.code,
                before=demand.due_date,
                after=deadline.due,
                provisional=deadline.provisional,
            )
            moved.append((demand, change))
    return moved


# ---- the service -----------------------------------------------------------------------


def _notice_out(notice: HolidayNoticeIn, imported_by: str) -> HolidayNoticeOut:
    return HolidayNoticeOut(
        year=notice.year,
        title=notice.title,
        source=notice.source,
        holidays=notice.holidays,
        days_off=len(notice.days_off()),
        workdays=len(notice.workdays()),
        imported_by=imported_by,
    )


def import_holiday_notice(
    ctx: CatalogContext, *, notice: HolidayNoticeIn, actor: Actor, dry_run: bool = False
) -> CalendarImportReport:
    """Store a year's notice (replacing an earlier import of that year) and move deadlines.

    Every open demand's due date is counted again on the new calendar; each one that moves
    gets a history entry. A dry run reports the same and writes nothing.
    """
    auth.import_holiday_notice(actor)
    periods = [p.model_dump(mode="json") for p in notice.holidays]
    notices = list(repository.holiday_notices(ctx.session))
    stored = next((n for n in notices if n.year == notice.year), None)
    candidate = HolidayNotice(year=notice.year, holidays=periods)
    calendar = calendar_for(
        ctx.settings, [n for n in notices if n.year != notice.year] + [candidate]
    )
    moved = _moved_deadlines(ctx, calendar)
    report = CalendarImportReport(
        notice=_notice_out(notice, actor.name),
        replaced=stored is not None,
        dry_run=dry_run,
        recomputed=[change for _, change in moved],
    )
    if dry_run:
        return report
    before = None if stored is None else {"title": stored.title, "holidays": stored.holidays}
    if stored is None:
        stored = HolidayNotice(year=notice.year)
        ctx.session.add(stored)
    stored.title = notice.title
    stored.source = notice.source
    stored.holidays = periods
    stored.imported_at = ctx.now()
    stored.imported_by = actor.name
    ctx.session.flush()
    record(
        ctx,
        entity="calendar",
        entity_id=stored.id,
        action="导入节假日安排",
        actor=actor,
        before=before,
        after={"year": notice.year, "title": notice.title, "holidays": periods},
    )
    ctx.calendar = calendar
    reason = f"导入{notice.year}年节假日安排 (holiday notice imported)"
    for demand, change in moved:
        demand.due_date = change.after
        record(
            ctx,
            entity="demand",
            entity_id=demand.id,
            action="重算办结期限",
            actor=actor,
            before={"due_date": change.before.isoformat()},
            after={"due_date": change.after.isoformat(), "reason": reason},
        )
    return report


def list_holiday_notices(ctx: CatalogContext) -> list[HolidayNoticeOut]:
    """The imported notices, oldest year first."""
    found = []
    for stored in repository.holiday_notices(ctx.session):
        notice = HolidayNoticeIn(
            year=stored.year, title=stored.title, source=stored.source, holidays=stored.holidays
        )
        found.append(_notice_out(notice, stored.imported_by))
    return found
