"""The steward's first steps from the README, through the real ``govshare`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


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


def test_init_seed_and_gaps_as_a_new_user_would(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "home"
    url = None if database_url.startswith("sqlite") else database_url
    init = _run(home, "init", "--json", database_url=url)
    assert init.returncode == 0, init.stderr
    assert json.loads(init.stdout)["home"] == str(home.resolve())
    again = _run(home, "init", database_url=url)
    assert again.returncode == 0, again.stderr  # idempotent
    seed = _run(home, "catalog", "seed-demo", database_url=url)
    assert seed.returncode == 0, seed.stderr
    assert "29 个信息资源" in seed.stdout
    gaps = _run(home, "catalog", "gaps", "--json", database_url=url)
    assert gaps.returncode == 0, gaps.stderr
    report = json.loads(gaps.stdout)
    assert set(report) == {
        "coverage", "uncatalogued_duties", "unmounted_resources", "unowned_demands",
        "no_capability_demands", "overdue_reviews", "source_conflicts",
    }  # fmt: skip
    assert all(report[k] for k in report)
    table = _run(home, "catalog", "gaps", database_url=url)
    assert "一数一源冲突" in table.stdout and "死亡日期" in table.stdout
    twice = _run(home, "catalog", "seed-demo", database_url=url)
    assert twice.returncode == 1 and "已加载" in twice.stderr


def test_commands_before_init_explain_what_to_do(tmp_path: Path) -> None:
    result = _run(tmp_path / "empty", "catalog", "gaps")
    assert result.returncode == 1
    assert "govshare init" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "command",
    [[], ["init"], ["catalog"], ["catalog", "gaps"], ["catalog", "search"], ["catalog", "show"]],
    ids=lambda c: " ".join(c) or "root",
)
def test_every_command_has_help(tmp_path: Path, command: list[str]) -> None:
    result = _run(tmp_path, *command, "--help")
    assert result.returncode == 0
    assert "Usage" in result.stdout
