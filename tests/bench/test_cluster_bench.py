"""The cluster benchmark runs end to end at a tiny size and leaves no cluster running."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import cluster as cluster_bench

pytestmark = [pytest.mark.slow, pytest.mark.spark]


def test_cluster_benchmark_times_both_engines_and_writes_its_figures(tmp_path: Path) -> None:
    result = cluster_bench.main(
        [
            *("--rows", "3000", "--warmup-rows", "500", "--worker-memory", "1500m"),
            *("--results-dir", str(tmp_path)),
        ]
    )
    assert set(result["seconds"]) == {"local[2]", "standalone 2 workers × 1 core"}  # type: ignore[call-overload]
    assert result["ratio_cluster_to_local"] > 0  # type: ignore[operator]
    saved = json.loads((tmp_path / "cluster-3000.json").read_text(encoding="utf-8"))
    assert saved["rows"] == 3000
