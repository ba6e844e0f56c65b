"""The ingest and quality-gate benchmarks run end to end at a tiny size; speed is never asserted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import ingest as ingest_bench
from bench import quality as quality_bench

pytestmark = pytest.mark.slow


def test_ingest_benchmark_times_every_path_and_counts_add_up(tmp_path: Path) -> None:
    result = ingest_bench.main(["--rows", "3000", "--repeat", "1", "--results-dir", str(tmp_path)])
    assert set(result["seconds"]) == {  # type: ignore[call-overload]
        "Spark CSV → Parquet",
        "DuckDB CSV → Parquet",
        "govshare ingest (raw+validated Delta)",
    }
    assert all(s > 0 for s in result["cpu_seconds"].values())  # type: ignore[union-attr]
    saved = json.loads((tmp_path / "ingest-3000.json").read_text(encoding="utf-8"))
    assert saved["rows"] == 3000


def test_quality_benchmark_counts_the_planted_defects() -> None:
    # main() itself asserts that the gate found exactly the planted bad rows.
    result = quality_bench.main(["--rows", "3000", "--repeat", "1"])
    assert result["rules"] == 23 and result["ratio"] > 0  # type: ignore[operator]
