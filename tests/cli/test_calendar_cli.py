"""``govshare calendar import / show`` through the real command, and the provisional note."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from catalog.gaps import GapReport, OverdueReview
from govshare.commands.catalog import _render_gaps
from govshare.runtime import console

FIXTURE = Path(__file__).parent.parent / "catalog" / "cases" / "calendar" / "2027-test-fixture.toml"


def _run(
    home: Path, *args: str, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOVSHARE_HOME": str(home), "COLUMNS": "200"}
    env.pop("GOVSHARE_DATABASE_URL", None)
    if database_url:
        env["GOVSHARE_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "govshare", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_a_steward_imports_the_yearly_notice_from_the_command_line(
    tmp_path: Path, database_url: str
) -> None:
    home = tmp_path / "home"
    url = None if database_url.startswith("sqlite") else database_url
    assert _run(home, "init", database_url=url).returncode == 0
    dry = _run(home, "calendar", "import", str(FIXTURE), "--dry-run", "--json", database_url=url)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["dry_run"] is True

    done = _run(home, "calendar", "import", str(FIXTURE), database_url=url)
    assert done.returncode == 0, done.stderr
    assert "2027 年节假日安排 7 个假期" in done.stdout and "调休上班 4 天" in done.stdout
    shown = json.loads(_run(home, "calendar", "show", "--json", database_url=url).stdout)
    assert [n["year"] for n in shown["data"]] == [2027]  # once: the dry run wrote nothing
    assert shown["data"][0]["holidays"][1]["name"] == "春节"

    bad = tmp_path / "2027.toml"
    bad.write_text('year = 2027\n[[holidays]]\nname = "春节"\nstart = 2027-02-06\n', "utf-8")
    refused = _run(home, "calendar", "import", str(bad), database_url=url)
    assert refused.returncode == 1
    assert "有 1 处问题" in refused.stderr and "holidays[0].end" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_gap_report_marks_a_provisional_due_date_in_chinese(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    late = OverdueReview(
        kind="共享需求",
        ref="XQ20270201000001",
        name="办理一件事",
        reviewer="某局",
        since=date(2027, 2, 1),
        due=date(2027, 2, 15),
        due_provisional=True,
        working_days_late=2,
    )
    report = GapReport(
        coverage=[],
        uncatalogued_duties=[],
        unmounted_resources=[],
        unowned_demands=[],
        no_capability_demands=[],
        overdue_reviews=[late],
        source_conflicts=[],
    )
    # The test runner's terminal is narrow. The private field, not the ``width`` property: undoing
    # a property patch would pin the shared console at the width read then (80) for later tests.
    monkeypatch.setattr(console, "_width", 300)
    with console.capture() as captured:
        _render_gaps(report)
    assert "2027-02-15（暂定，节假日安排未发布）" in captured.get()
