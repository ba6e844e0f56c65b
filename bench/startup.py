"""CLI start-up: `govshare --help` and a quick catalogue command, next to a bare `python -c pass`.

``python -m bench.startup`` runs each command ``--repeat`` times in a fresh process (as a
person typing it does) and prints the median wall time and the ratio to the bare
interpreter. Target: ``govshare --help`` ≤ 0.3 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table


def _median(command: list[str], repeat: int, env: dict[str, str] | None = None) -> float:
    walls = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False, env=env)
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    govshare = str(Path(sys.executable).with_name("govshare"))
    import os

    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "GOVSHARE_HOME": home}
        subprocess.run([govshare, "init"], capture_output=True, check=True, env=env)
        subprocess.run([govshare, "catalog", "seed-demo"], capture_output=True, check=True, env=env)
        runs = {
            "python -c pass (baseline)": [sys.executable, "-c", "pass"],
            "govshare --help": [govshare, "--help"],
            "govshare quality --help": [govshare, "quality", "--help"],
            "govshare catalog gaps --json": [govshare, "catalog", "gaps", "--json"],
        }
        results = {name: _median(cmd, args.repeat, env) for name, cmd in runs.items()}
    base = results["python -c pass (baseline)"]
    table = Table(title=f"CLI start-up, median of {args.repeat} fresh processes")
    for column in ("command", "seconds", "÷ bare python"):
        table.add_column(column)
    for name, seconds in results.items():
        table.add_row(name, f"{seconds:.3f}", f"{seconds / base:.1f}×")
    Console().print(table)
    return results


if __name__ == "__main__":
    main()
