"""What every command needs: settings, the catalogue, and one way to report errors and results.

Output goes through here so that ``--json`` is uniform and errors reach people as a red line
with the reason, never a traceback; an unexpected error is reported without internals.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from infra.errors import DatabaseUnavailable, GovshareError

if TYPE_CHECKING:
    # Imported when a command runs, not when the CLI starts: SQLAlchemy's ORM and the
    # catalogue cost more than a second, and `govshare --help` needs neither.
    from catalog.context import Actor, CatalogContext
    from infra.settings import Settings

console = Console()
err_console = Console(stderr=True)
log = logging.getLogger("govshare")

P = ParamSpec("P")
R = TypeVar("R")


def cli_actor() -> Actor:
    """Commands run on the operator's own machine as the data authority."""
    from catalog.context import Actor

    return Actor.steward("cli")


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


def to_jsonable(data: Any) -> Any:
    if hasattr(data, "model_dump"):  # a pydantic model
        return data.model_dump(mode="json")
    if isinstance(data, list | tuple):
        return [to_jsonable(d) for d in data]
    if isinstance(data, dict):
        return {k: to_jsonable(v) for k, v in data.items()}
    return data


def print_json(data: Any) -> None:
    # Plain stdout, not rich: scripts parse it and rich would wrap long lines.
    typer.echo(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2, default=str))


# Exit codes, as the README's Configuration section lists them.
EXIT_ERROR = 1  # an expected error: bad input, a refused file, a state that forbids it
EXIT_INTERNAL = 2  # unexpected: details in the log, never on screen
EXIT_DATABASE = 3  # the catalogue database cannot be reached: retrying later may help


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Expected errors become a message and exit code 1; an unreachable catalogue database,
    one line and exit code 3; anything else, exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DatabaseUnavailable as error:
            # One line, never wrapped: scripts and operators grep for it.
            err_console.print(f"[bold red]错误 (error):[/] {error.message}", soft_wrap=True)
            raise typer.Exit(EXIT_DATABASE) from None
        except GovshareError as error:
            err_console.print(f"[bold red]错误 (error):[/] {error.message}")
            if error.details and isinstance(error.details, list):
                for line in error.details[:50]:
                    err_console.print(f"  • {line}")
            raise typer.Exit(EXIT_ERROR) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as error:
            log.exception("unexpected error in command")
            err_console.print(f"[bold red]内部错误 (internal error):[/] {type(error).__name__}")
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper
