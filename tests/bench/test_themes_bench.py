"""The theme benchmark runs end to end at a tiny scale; speed is never asserted.

Only 一企一档: each ingested source costs seconds of Spark start-up work whatever its size,
and the enterprise theme alone (six sources) keeps the test near a minute while still
covering the full build, the plain join, conflicts, derived counts and the incremental
rebuild. ``python -m bench.themes`` runs both themes.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from bench.themes import main

pytestmark = pytest.mark.slow


def test_theme_benchmark_builds_both_paths_with_the_same_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Few shuffle partitions: at this size Spark's per-task overhead is all there is.
    monkeypatch.setenv("GOVSHARE_SPARK_SHUFFLE_PARTITIONS", "2")
    out = io.StringIO()
    argv = ["--scale", "1000", "--themes", "enterprise", "--changed", "3", "--repeat", "1"]
    result = main([*argv, "--results-dir", str(tmp_path)], console=Console(file=out, width=200))

    assert list(result["rows"]) == ["一企一档"]
    counts = result["rows"]["一企一档"]
    assert counts["govshare"] == counts["plain"] == counts["keys"] > 0
    assert result["differences"] == result["differences_after_change"] == {"一企一档": 0}
    changed = result["incremental"]["一企一档"]
    assert changed["keys_rewritten"] == 3 and 1 <= changed["buckets_rewritten"] <= 3
    printed = out.getvalue()
    assert "govshare full" in printed and "plain join" in printed
    saved = json.loads((tmp_path / "themes-1000.json").read_text(encoding="utf-8"))
    assert saved["rows"] == result["rows"]
