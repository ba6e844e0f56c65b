"""Small batches: a file of up to 100k rows ingested, gated and committed, next to pyarrow alone.

``uv run python -m bench.small_batches --rows 100 10000 100000`` writes a registration extract
of each size and times, in this one warm process: (1) pyarrow reading the CSV and writing it
as Parquet, the least any ingest can do; (2) the batch's lake work (``bench.ingest_batch``:
stage, gate, publish) with every quality rule of the resource, which for files under
``GOVSHARE_INGEST_LOCAL_MAX_BYTES`` runs in-process (``pipelines.local``): standardise,
check, duplicate keys, quarantine, the gate, and three Delta commits; with ``--spark`` also
(3) the same job forced through Spark. Each path is warmed up once, then the median of
``--repeat`` runs is printed with the ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import ingest_batch, registration_batch, scratch_run, warm_median
from bench.ingest import write_extract


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[100, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--spark", action="store_true", help="also time the Spark driver")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile one more run of the largest file and print where its time goes",
    )
    parser.add_argument("--results-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="govshare-small-"))
    with scratch_run(work):
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        from infra.settings import Settings

        settings = Settings(
            home=work / "home", database_url=f"sqlite:///{work / 'c.db'}", landing_dir=work
        )
        plan, ruleset = registration_batch(settings)
        warmup = work / "warmup.csv"
        write_extract(warmup, 50)
        engines: list[str] = []

        def ours(path: Path, limit: int = settings.ingest_local_max_bytes) -> None:
            shutil.rmtree(settings.lake_path, ignore_errors=True)  # a new batch every run
            run_settings = settings.model_copy(update={"ingest_local_max_bytes": limit})
            summary = ingest_batch(run_settings, plan, path, ruleset)
            assert summary.rows_read == summary.rows_accepted + summary.rows_quarantined
            engines.append(summary.engine)

        def pyarrow_only(path: Path) -> None:
            table = pacsv.read_csv(path)
            pq.write_table(table, work / "plain.parquet")

        results: list[dict[str, object]] = []
        for rows in args.rows:
            source = work / f"extract-{rows}.csv"
            write_extract(source, rows)
            paths: list[tuple[str, Callable[[Path], None]]] = [
                ("pyarrow CSV → Parquet", pyarrow_only),
                ("govshare ingest", ours),
            ]
            if args.spark:
                paths.append(("govshare ingest on Spark", lambda p: ours(p, 0)))
            for name, run in paths:
                wall, _cpu, runs = warm_median(
                    run, warmup=warmup, source=source, repeat=args.repeat
                )
                results.append({"rows": rows, "path": name, "seconds": wall, "runs": runs})
        assert "local" in engines
        table = Table(title="small batches: median wall seconds (warm process)")
        for column in ("rows", "path", "seconds", "ours ÷ this"):
            table.add_column(column)
        for row in results:
            ours_s = next(
                r["seconds"]
                for r in results
                if r["rows"] == row["rows"] and r["path"] == "govshare ingest"
            )
            table.add_row(
                f"{row['rows']:,}",
                str(row["path"]),
                f"{row['seconds']:.3f}",
                f"{ours_s / row['seconds']:.2f}×",  # type: ignore[operator]
            )
        console.print(table)
        console.print(
            "govshare ingest: read, standardise, 23 quality rules, duplicate keys, gate, raw + "
            "quarantine + validated Delta commits; target ≤ 2 s and ≤ 2× pyarrow alone."
        )
        out: dict[str, object] = {"results": results}
        if args.profile:
            out["profile"] = _profile(lambda: ours(work / f"extract-{max(args.rows)}.csv"), console)
        args.results_dir.mkdir(parents=True, exist_ok=True)
        (args.results_dir / "small-batches.json").write_text(
            json.dumps(out, ensure_ascii=False, indent=2)
        )
        return out


def _profile(run: Callable[[], None], console: Console, top: int = 20) -> list[dict[str, object]]:
    """cProfile of one warm run: the gap to pyarrow alone is explained by what this prints.

    Sorted by own time (``tottime``): where the CPU actually goes, not which caller holds it.
    """
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
    table = Table(title=f"where one run's {total:.2f} s go (cProfile, own time)")
    for column in ("function", "calls", "own s", "share"):
        table.add_column(column)
    found: list[dict[str, object]] = []
    for (filename, line, name), (_cc, calls, own, _cum, _callers) in rows:
        where = f"{Path(filename).name}:{line} {name}" if line else name
        table.add_row(where, f"{calls:,}", f"{own:.3f}", f"{own / total:.0%}")
        found.append({"function": where, "calls": calls, "seconds": own})
    console.print(table)
    return found


if __name__ == "__main__":
    main()
