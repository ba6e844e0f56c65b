"""The serving benchmark runs end to end at a tiny scale; speed is never asserted.

It starts the API under uvicorn twice (one audit commit per call, then group commit) and
calls it over HTTP; a setting it passes out of bounds, or a quota it runs into, fails here
rather than at the start of a long run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.serving import main

pytestmark = pytest.mark.slow


def test_serving_benchmark_measures_both_audit_modes(tmp_path: Path) -> None:
    argv = ["--rows", "3000", "--lookups", "40", "--clients", "4", "--seconds", "1"]
    result = main([*argv, "--keep", str(tmp_path / "home")])

    assert set(result) == {"group", "single"}
    for figures in result.values():
        assert figures["calls"] > 0 and figures["rps"] > 0
        assert 0 < figures["p50_ms"] <= figures["p99_ms"]
        assert figures["server_cpu_ms"] > 0
