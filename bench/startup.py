"""CLI start-up: `govshare --help` and a quick catalogue command, next to a bare `python -c pass`.

``python -m bench.startup`` runs each command ``--repeat`` times in a fresh process (as a
person typing it does) and prints the median wall time and the ratio to the bare
interpreter. Targets: ``govshare --help`` ≤ 0.3 s, ``govshare catalog gaps`` ≤ 1 s (issue 16).

CPU seconds are printed beside wall time: on a shared machine wall time mostly measures the
neighbours. The figures assume bytecode exists: `make setup` writes it at install time
(``compile-bytecode`` in pyproject.toml, then ``compileall`` of the project), so they hold even
where ``PYTHONDONTWRITEBYTECODE`` is set; compiling SQLAlchemy and the catalogue from source
on every start would cost about 0.9 s more.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table


def _median(
    command: list[str], repeat: int, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Median wall and CPU (user + system) seconds of ``repeat`` fresh processes."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False, env=env)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    govshare = str(Path(sys.executable).with_name("govshare"))
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "GOVSHARE_HOME": home}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([govshare, "init"], capture_output=True, check=True, env=env)
        subprocess.run([govshare, "catalog", "seed-demo"], capture_output=True, check=True, env=env)
        runs = {
            "python -c pass (baseline)": [sys.executable, "-c", "pass"],
            "govshare --help": [govshare, "--help"],
            "govshare quality --help": [govshare, "quality", "--help"],
            "govshare catalog gaps": [govshare, "catalog", "gaps"],
            "govshare catalog gaps --json": [govshare, "catalog", "gaps", "--json"],
        }
        # One unmeasured run each: Python writes the bytecode a person's first run writes.
        for command in runs.values():
            subprocess.run(command, capture_output=True, check=False, env=env)
        measured = {name: _median(cmd, args.repeat, env) for name, cmd in runs.items()}
    base = measured["python -c pass (baseline)"][0]
    table = Table(title=f"CLI start-up, median of {args.repeat} fresh processes")
    for column in ("command", "wall s", "CPU s", "÷ bare python"):
        table.add_column(column)
    for name, (wall, cpu) in measured.items():
        table.add_row(name, f"{wall:.3f}", f"{cpu:.3f}", f"{wall / base:.1f}×")
    Console().print(table)
    return {name: wall for name, (wall, _) in measured.items()}


if __name__ == "__main__":
    main()
