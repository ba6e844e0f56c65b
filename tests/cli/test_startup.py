"""The CLI starts without importing what its commands need: `govshare --help` stays quick."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from govshare.cli import COMMANDS, _command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_root_help_line_is_the_commands_own_short_help(name: str) -> None:
    command = _command(name)
    assert command is not None
    assert COMMANDS[name][1] == command.get_short_help_str(limit=300)


def test_root_help_imports_neither_sqlalchemy_nor_the_catalogue() -> None:
    probe = (
        "import sys\n"
        "from govshare.cli import main\n"
        "sys.argv = ['govshare', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'catalog', 'pyspark', 'pyarrow', 'pydantic_settings'))\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert "命令 (commands)" in done.stdout and "calendar" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "HEAVY []"


def test_catalog_gaps_loads_only_what_the_report_needs(tmp_path: Path) -> None:
    """`catalog gaps` is typed often (issue 16: ≤ 1 s): the services, the search index, the
    importer, the demo data and the PostgreSQL dialect stay unloaded on a SQLite catalogue."""
    env = {"GOVSHARE_HOME": str(tmp_path / "home")}
    for args in (["init"], ["catalog", "seed-demo"]):
        subprocess.run(
            [sys.executable, "-m", "govshare", *args],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            timeout=120,
        )
    probe = (
        "import sys\n"
        "from govshare.cli import main\n"
        "sys.argv = ['govshare', 'catalog', 'gaps']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = sorted(m for m in sys.modules if m in "
        "('catalog.services', 'catalog.search', 'catalog.transfer', 'catalog.schemas', "
        "'demo', 'sqlalchemy.dialects.postgresql', 'alembic'))\n"
        "print('LOADED', loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "共" in done.stdout and "项缺口" in done.stdout, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "LOADED []"
