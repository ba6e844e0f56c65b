"""No identifier in any log line: a logging filter that redacts ID numbers, USCCs and phones.

Keys are looked up by POST body, but a client may still put one in a path or a query string,
and uvicorn's access log writes the whole request line. The filter rewrites a record's
message, arguments and formatted traceback before any handler sees it; it is attached to the
loggers the server writes through and to their handlers (records that propagate from a child
logger skip the parent logger's filters, never its handlers' filters).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

REDACTED = "[REDACTED]"

_PATTERNS = (
    # 公民身份号码 (18, with X) and 统一社会信用代码 (18, upper-case letters and digits), and the
    # 15-digit ID numbers issued before 1999.
    re.compile(r"(?<![0-9A-Za-z])(?:[0-9A-Z]{18}|[0-9]{17}[Xx]|[0-9]{15})(?![0-9A-Za-z])"),
    # Mainland mobile numbers, with an optional +86 / 86.
    re.compile(r"(?<![0-9])(?:\+?86)?1[3-9][0-9]{9}(?![0-9])"),
)
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "govshare", "fastapi")


def redact(text: str) -> str:
    """``text`` with every token that looks like a personal or entity identifier replaced."""
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        return redact(value.decode("utf-8", "replace"))
    return value


class RedactingFilter(logging.Filter):
    """Redacts identifiers in place; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_govshare_redacted", False):
            return True
        record.msg = _clean(record.msg) if isinstance(record.msg, str) else record.msg
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._govshare_redacted = True  # type: ignore[attr-defined]
        return True


_FILTER = RedactingFilter()


def _redacting_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        _FILTER.filter(record)
        return record

    factory._govshare_redacting = True  # type: ignore[attr-defined]
    return factory


def install(loggers: tuple[str, ...] = LOGGERS) -> None:
    """Redact every record this process logs from now on (idempotent).

    The filter on the named loggers and their handlers covers the server's loggers as they
    are; the record factory covers what they cannot: loggers and handlers made later (a CLI
    command's, an Airflow task's), and records that propagate past a logger's filters. The
    CLI, the API and the DAG file each call this first, so a traceback logged by a job in any
    of those processes carries no ID number.
    """
    current = logging.getLogRecordFactory()
    if not getattr(current, "_govshare_redacting", False):
        logging.setLogRecordFactory(_redacting_factory(current))
    for name in loggers:
        logger = logging.getLogger(name)
        targets: list[logging.Filterer] = [logger, *logger.handlers]
        for target in targets:
            if _FILTER not in target.filters:
                target.addFilter(_FILTER)
