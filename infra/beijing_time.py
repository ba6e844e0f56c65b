"""Times as people read them: Beijing time in tables and pages, ISO 8601 with offset in JSON.

The catalogue and the lake store UTC; schedules, holiday calendars and stewards live in
Asia/Shanghai. Every place a person reads a time formats it here, so a history row, a chart
point and a DAG's next run agree (issue 16). Naive datetimes are taken as UTC, which is how
SQLite hands back what was stored as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def to_beijing(dt: datetime) -> datetime:
    """``dt`` in Beijing time (a naive ``dt`` is UTC)."""
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(BEIJING)


def beijing(dt: datetime | date | None, *, seconds: bool = True) -> str:
    """``2026-03-05 18:21:33`` in Beijing time, for tables and HTML; a date as it is; None as ''."""
    if dt is None:
        return ""
    if not isinstance(dt, datetime):
        return dt.isoformat()
    return to_beijing(dt).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def iso(dt: datetime | date | None) -> str | None:
    """``2026-03-05T18:21:33+08:00`` for JSON: Beijing time with its offset, so a script needs
    no guess about the zone; a date as ``2026-03-05``; None stays None."""
    if dt is None:
        return None
    if not isinstance(dt, datetime):
        return dt.isoformat()
    return to_beijing(dt).isoformat(timespec="seconds")
