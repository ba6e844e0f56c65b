"""The merge-table size benchmark runs end to end at a tiny size; sizes, not speed, are checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import lake_size

pytestmark = pytest.mark.slow


def test_a_merge_table_shrinks_to_its_live_size_once_maintained(tmp_path: Path) -> None:
    result = lake_size.main(
        ["--rows", "1500", "--growth", "100", "--batches", "3", "--results-dir", str(tmp_path)]
    )
    inside, one_window, passed = result["moments"]  # type: ignore[misc]
    # Every batch rewrote the table: inside the window the folder holds every version.
    assert inside["disk_bytes"] > 2.5 * inside["live_bytes"]
    assert one_window["disk_bytes"] < inside["disk_bytes"]
    assert passed["disk_bytes"] <= 1.5 * passed["live_bytes"]
    saved = json.loads((tmp_path / "lake-size.json").read_text(encoding="utf-8"))
    assert saved["ratio_after_maintenance"] == result["ratio_after_maintenance"]
