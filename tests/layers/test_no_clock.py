"""Below the jobs nothing reads the clock for "today": the run's date is always given.

A job takes its run's date explicitly (the DAG's logical date, the CLI's ``--as-of``, the
API's request day) and hands it down; a module of the lower layers that asked the clock
would judge a re-run on a later day differently. The catalogue's own clock
(``catalog/context.py``: ``utcnow``, injectable in tests) and the migrations are the
exceptions; everything else goes through them or takes a date. (Commit timestamps in the
Delta log are wall-clock instants, not a "today", and are not what this pins.)
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOWER = ("infra", "privacy", "catalog", "lake", "checks", "pipelines", "quality")
ALLOWED = {Path("catalog/context.py")}
ALLOWED_FOLDERS = (Path("catalog/migrations"),)
CLOCK = re.compile(r"\b(?:date\.today|datetime\.(?:now|utcnow|today))\(")


def _clock_reads(root: Path) -> list[str]:
    found = []
    for package in LOWER:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            if relative in ALLOWED or any(f in relative.parents for f in ALLOWED_FOLDERS):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if CLOCK.search(line.split("#", 1)[0]):
                    found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_module_below_the_jobs_reads_the_clock() -> None:
    assert _clock_reads(ROOT) == []


def test_the_check_finds_a_planted_clock_read(tmp_path: Path) -> None:
    for package in LOWER:
        (tmp_path / package).mkdir()
    (tmp_path / "checks" / "planted.py").write_text(
        "from datetime import date\n\n\ndef today():\n    return date.today()\n",
        encoding="utf-8",
    )
    (tmp_path / "catalog" / "context.py").write_text("now = datetime.now(UTC)\n")

    assert _clock_reads(tmp_path) == ["checks/planted.py:5: return date.today()"]
