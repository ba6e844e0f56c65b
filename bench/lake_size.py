"""A merge table's size on disk next to its live size, before and after maintenance.

``uv run python -m bench.lake_size --rows 200000 --batches 7`` seeds the demo catalogue in a
temporary home and ingests ``--batches`` registration extracts into one merge table: each
batch carries every earlier key with a changed 企业状态 plus ``--growth`` new keys, so every
batch's merge rewrites the whole table (copy-on-write), as a department's daily full extract
does. It then prints the validated table's data files on disk next to the bytes of the live
version's files (the baseline: what a reader needs), at three moments:

1. after the batches, with every version inside the time-travel window;
2. after ``lake maintain`` run one window after the last commit (only the version current
   a window ago and the live one are kept);
3. after ``lake maintain`` once the window has passed for every version.

Why: a merge table grew to 301 MB for 67 MB live after 7 batches (issue 17); the target is
at most 1.5× the live size once maintenance has run. What the window costs on the way is
printed too: inside the window each version is a full copy, by design (``govshare lake
read --version``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import ingest_batch, registration_batch, scratch_run
from bench.ingest import write_extract


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f}"


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000, help="keys in the first batch")
    parser.add_argument("--growth", type=int, default=10_000, help="new keys per later batch")
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--results-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="govshare-lake-size-"))
    with scratch_run(work):
        from infra.settings import Settings
        from lake import delta
        from lake.maintenance import data_bytes, live_bytes, maintain_lake, window_of
        from pipelines.ingest import tables

        settings = Settings(
            home=work / "home", database_url=f"sqlite:///{work / 'c.db'}", landing_dir=work
        )
        plan, ruleset = registration_batch(settings)
        validated = tables(settings, plan.table)["validated"]

        def moment(name: str) -> tuple[str, int, int]:
            return name, data_bytes(validated), live_bytes(validated)

        for batch in range(args.batches):
            path = work / f"registration-{batch}.csv"
            write_extract(path, args.rows + args.growth * batch, status=f"状态{batch}")
            summary = ingest_batch(settings, plan, path, ruleset)
            assert summary.rows_quarantined == 0 and summary.table_version == batch, summary
            path.unlink()
            console.print(
                f"batch {batch + 1}/{args.batches}: {summary.rows_read:,} rows, "
                f"table {_mb(data_bytes(validated))} MB on disk ({summary.engine})"
            )
        window = window_of(settings)
        last_commit = datetime.fromtimestamp(delta.history(validated)[0]["timestamp"] / 1000, UTC)
        moments = [moment(f"after {args.batches} batches, all inside the window")]
        maintain_lake(settings, tables=[validated], now=last_commit + window)
        moments.append(moment("maintained one window after the last commit"))
        maintain_lake(
            settings, tables=[validated], now=last_commit + 2 * window + timedelta(hours=1)
        )
        moments.append(moment("maintained once the window has passed"))

        table = Table(
            title=f"merge table on disk: {args.batches} batches, "
            f"{args.rows + args.growth * (args.batches - 1):,} live rows"
        )
        for column in ("moment", "on disk MB", "live MB (baseline)", "÷ live"):
            table.add_column(column, justify="right")
        for name, disk, live in moments:
            table.add_row(name, _mb(disk), _mb(live), f"{disk / live:.2f}×")
        console.print(table)
        final = moments[-1][1] / moments[-1][2]
        console.print(
            f"after maintenance: {final:.2f}× the live size (target ≤ 1.5×); inside the "
            f"{window.total_seconds() / 3600:.0f} h window each version is a full copy by design"
        )
        out: dict[str, object] = {
            "batches": args.batches,
            "moments": [{"moment": n, "disk_bytes": d, "live_bytes": lv} for n, d, lv in moments],
            "ratio_after_maintenance": round(final, 3),
        }
        args.results_dir.mkdir(parents=True, exist_ok=True)
        (args.results_dir / "lake-size.json").write_text(
            json.dumps(out, ensure_ascii=False, indent=2)
        )
        return out


if __name__ == "__main__":
    main()
