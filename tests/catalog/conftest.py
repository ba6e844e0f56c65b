"""Fixtures of the catalogue tests: the ``govshare`` command run in-process against a home."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from infra.settings import get_settings

Invoke = Callable[..., Result]


@pytest.fixture
def govshare() -> Iterator[Invoke]:
    """Run ``govshare`` with a given home (and database); settings are re-read each time."""
    from govshare.cli import build_app  # the whole CLI: only for the tests that use it
    from govshare.runtime import console, err_console

    runner, app = CliRunner(), build_app()

    def invoke(home: Path, *args: str, database_url: str | None = None) -> Result:
        env = {
            "GOVSHARE_HOME": str(home),
            "GOVSHARE_DATABASE_URL": database_url,
            "GOVSHARE_CONFIG": None,
            "COLUMNS": "200",
        }
        get_settings.cache_clear()
        # The shared consoles keep whatever width they first measured (80 without a terminal,
        # as under pytest-xdist): pin a wide one so tables never wrap what a test looks for.
        widths = [(c, c._width) for c in (console, err_console)]
        for c, _ in widths:
            c._width = 200
        try:
            return runner.invoke(app, list(args), env=env)
        finally:
            for c, width in widths:
                c._width = width
            get_settings.cache_clear()

    yield invoke
    get_settings.cache_clear()
