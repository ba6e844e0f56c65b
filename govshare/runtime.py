"""What every command needs: settings, the catalogue, who acts, and one way to report results.

Output goes through here so that ``--json`` is one contract (``docs/cli-json.md``): a list is
``{"data": [...], "count": n}``, one object is the object, an error is
``{"errorCode", "message", "details"}`` on stdout with a non-zero exit code and the human
message on stderr, and every timestamp is ISO 8601 with its offset (Beijing time). Errors reach
people as a red line with the reason, never a traceback; an unexpected error is reported
without internals.
"""

from __future__ import annotations

import dataclasses
import functools
import getpass
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from typer._click.exceptions import UsageError

# Times for people (tables: beijing) and scripts (JSON: iso), one pair for every command.
from infra.beijing_time import beijing as beijing
from infra.beijing_time import iso as iso
from infra.errors import DatabaseUnavailable, GovshareError, ValidationError

if TYPE_CHECKING:
    from rich.table import Table

    # Imported when a command runs, not when the CLI starts: SQLAlchemy's ORM and the
    # catalogue cost more than a second, and `govshare --help` needs neither.
    from catalog.context import Actor, CatalogContext
    from infra.settings import Settings

console = Console()
err_console = Console(stderr=True)
log = logging.getLogger("govshare")

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Invocation:
    """What the root options and ``--json`` said for the command now running.

    Reset by the root group's callback on every invocation, so commands run one after another
    in one process (tests, ``govshare demo``) never inherit a previous command's choices.
    """

    actor: str | None = None  # from ``govshare --as``
    json: bool = False


_invocation = _Invocation()


def begin_invocation(*, actor: str | None) -> None:
    """Called by the root group before any sub-command: ``--as`` for this command only."""
    global _invocation
    _invocation = _Invocation(actor=actor.strip() if actor else None)


def _remember_json(value: bool) -> bool:
    _invocation.json = bool(value)
    return value


def json_option(
    help_text: str = "机器可读的 JSON 输出，格式见 docs/cli-json.md (JSON output)",
) -> Any:
    """The ``--json`` option every leaf command takes; it also tells errors to answer in JSON."""
    return typer.Option("--json", help=help_text, callback=_remember_json)


JsonFlag = Annotated[bool, json_option()]


def json_mode() -> bool:
    return _invocation.json


# ---- who acts --------------------------------------------------------------------------


def parse_actor(text: str) -> Actor:
    """``steward:张三``, ``dept:<统一社会信用代码>:李四`` or a bare name (a steward).

    The CLI runs on the data authority's machines, so a bare name is a steward; a department
    identity acts with a department's rights only (the services refuse what it may not do).
    """
    from catalog.context import Actor
    from catalog.identifiers import uscc_problem

    kind, sep, rest = text.strip().partition(":")
    if not sep:
        kind, rest = "steward", text.strip()
    kind = kind.strip().lower()
    if kind == "steward" and rest.strip():
        return Actor.steward(rest.strip())
    if kind in ("dept", "department"):
        code, _, name = rest.partition(":")
        code, name = code.strip(), name.strip()
        if code and name and not uscc_problem(code):
            return Actor.department(code, name=name)
    raise ValidationError(
        f"操作人身份格式错误 (bad actor) {text!r}：应为 张三、steward:张三 或 "
        "dept:统一社会信用代码:李四 (--as or GOVSHARE_CLI_ACTOR)"
    )


def cli_actor() -> Actor:
    """Who this command acts as: ``--as``, else GOVSHARE_CLI_ACTOR, else the login name.

    Whatever it is goes into history entries and quality decisions, so an action taken on the
    command line can be traced to a person rather than to "the CLI".
    """
    from catalog.context import Actor

    configured = _invocation.actor or settings().cli_actor
    if configured:
        return parse_actor(configured)
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers): still say it was the CLI
        login = "unknown"
    return Actor.steward(f"cli:{login}")


def run_date(as_of: datetime | None) -> date:
    """The run's date for the date rules: ``--as-of``, else today in Beijing, decided once at
    the top of the command (and printed, so a re-run can pass the same date)."""
    from catalog.context import CHINA_TZ, utcnow

    day = as_of.date() if as_of is not None else utcnow().astimezone(CHINA_TZ).date()
    err_console.print(f"运行日期 (as of): {day.isoformat()}")
    return day


def settings() -> Settings:
    from infra.settings import get_settings

    return get_settings()


@contextmanager
def catalog_unit(*, ready: bool = True) -> Iterator[CatalogContext]:
    """One transaction on the configured catalogue."""
    from catalog.store import Catalog

    store = Catalog(settings())
    try:
        if ready:
            store.check_ready()
        with store.unit() as ctx:
            yield ctx
    finally:
        store.dispose()


# ---- JSON output -----------------------------------------------------------------------


def whole_identifiers(table: Table, *headers: str) -> Table:
    """Keep the named columns whole on any terminal width: a resource code, batch id or DAG id
    is what a person types next, so it is never cut or folded; the other columns give way.

    Call after the rows are added (the widest cell sets the column's minimum width)."""
    from rich.cells import cell_len

    for column in table.columns:
        if str(column.header) in headers:
            widest = max((cell_len(str(cell)) for cell in column.cells), default=0)
            column.no_wrap = True
            column.min_width = max(widest, cell_len(str(column.header)))
    return table


def to_jsonable(data: Any) -> Any:
    """Plain JSON values: pydantic models, dataclasses, enums, dates and paths included."""
    if hasattr(data, "model_dump"):  # a pydantic model: python mode, so datetimes stay ours
        return to_jsonable(data.model_dump())
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return to_jsonable({f.name: getattr(data, f.name) for f in dataclasses.fields(data)})
    if isinstance(data, datetime):
        return iso(data)  # one form everywhere: 2026-03-05T18:21:33+08:00
    if isinstance(data, date):
        return data.isoformat()
    if isinstance(data, Enum):
        return data.value
    if isinstance(data, Path):
        return str(data)
    if isinstance(data, Mapping):
        return {str(k): to_jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple | set | frozenset):
        return [to_jsonable(d) for d in data]
    return data


def print_json(data: Any) -> None:
    """One object, as it is (a list goes through :func:`print_list`)."""
    # Plain stdout, not rich: scripts parse it and rich would wrap long lines.
    typer.echo(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2, default=str))


def print_list(rows: Any, *, count: int | None = None, **extra: Any) -> None:
    """A list in the envelope the exchange API uses: ``{"data": [...], "count": n, ...}``.

    ``count`` is the number of matches when ``data`` holds only the first of them (search,
    a table read); extra keys describe the list as a whole.
    """
    data = list(rows)
    print_json({"data": data, "count": len(data) if count is None else count, **extra})


def error_body(error_code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one error shape, the exchange API's: ``details`` is always there (null if none)."""
    return {"errorCode": error_code, "message": message, "details": to_jsonable(details)}


def fail(error_code: str, message: str, *, details: Any = None, exit_code: int = 1) -> typer.Exit:
    """Report a failure that is not an exception (a broken audit chain, a failed DAG run):
    the error body on stdout under ``--json``, the message on stderr always. Raise the result.
    """
    if json_mode():
        print_json(error_body(error_code, message, details))
    err_console.print(f"[bold red]错误 (error):[/] {message}", soft_wrap=True)
    return typer.Exit(exit_code)


# Exit codes, as the README's Configuration section lists them.
EXIT_ERROR = 1  # an expected error: bad input, a refused file, a state that forbids it
EXIT_INTERNAL = 2  # unexpected: details in the log, never on screen (also click's usage errors)
EXIT_DATABASE = 3  # the catalogue database cannot be reached: retrying later may help


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Expected errors become a message and exit code 1; an unreachable catalogue database,
    one line and exit code 3; anything else, exit code 2. Under ``--json`` the error's body
    is printed on stdout too."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DatabaseUnavailable as error:
            if json_mode():
                print_json(error_body(error.error_code, error.message, error.details))
            # One line, never wrapped: scripts and operators grep for it.
            err_console.print(f"[bold red]错误 (error):[/] {error.message}", soft_wrap=True)
            raise typer.Exit(EXIT_DATABASE) from None
        except GovshareError as error:
            details = error.details if error.status_code < 500 else None
            if json_mode():
                print_json(error_body(error.error_code, error.message, details))
            err_console.print(f"[bold red]错误 (error):[/] {error.message}")
            if details and isinstance(details, list):
                for line in details[:50]:
                    err_console.print(f"  • {line}")
            raise typer.Exit(EXIT_ERROR) from None
        except (typer.Exit, typer.Abort):
            raise
        except UsageError as error:
            # A usage error found in the command's body: click prints it as for a parse error.
            if json_mode():
                print_json(usage_error_body(error))
                error.govshare_reported = True  # type: ignore[attr-defined]
            raise
        except Exception as error:
            log.exception("unexpected error in command")
            if json_mode():
                print_json(
                    error_body(
                        "INTERNAL_ERROR", f"内部错误 (internal error): {type(error).__name__}"
                    )
                )
            err_console.print(f"[bold red]内部错误 (internal error):[/] {type(error).__name__}")
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


def usage_error_body(error: Exception) -> dict[str, Any]:
    """A command line the command cannot run (a missing argument, a bad option value)."""
    message = error.format_message() if hasattr(error, "format_message") else str(error)
    param = getattr(error, "param", None)
    hint = getattr(error, "param_hint", None)
    name = getattr(param, "name", None) or (hint if isinstance(hint, str) else None)
    return error_body("USAGE_ERROR", message, {"param": name} if name else None)
