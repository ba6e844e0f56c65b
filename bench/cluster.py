"""Cluster benchmark: the ingest on ``local[2]`` next to a 2-worker standalone cluster.

``uv run python -m bench.cluster --rows 1000000`` writes a registration extract, times the
Spark ingest (``bench.ingest_batch``: classify, quarantine, raw and validated Delta commits)
with ``local[2]``, then starts a Spark standalone cluster of two one-core workers on this
machine (``pipelines.cluster``, as ``govshare spark up``) and times the same batch there:
the same two cores, so the ratio is the price of the cluster's machinery (task shipping,
executors as separate JVMs, shuffle over the network stack), not a speed-up. The per-core
throughput measured on the cluster gives a paper estimate for larger clusters, assuming the
work scales linearly with cores (ingest is per-row and per-partition; the one shuffle is the
duplicate-key check). Speed is printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import ingest_batch, registration_batch, scratch_run, warm_median
from bench.ingest import write_extract

ESTIMATE_ROWS = 100_000_000
ESTIMATE_WORKERS = 10


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per engine (median)")
    parser.add_argument(
        "--warmup-rows", type=int, default=10_000, help="rows of the untimed first batch"
    )
    parser.add_argument("--worker-memory", default="2g")
    parser.add_argument("--results-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="govshare-bench-cluster-"))
    with scratch_run(work):
        from infra.settings import Settings
        from pipelines import cluster
        from pipelines.spark import spark_session, stop_spark

        base = Settings(
            home=work / "home",
            database_url=f"sqlite:///{work / 'c.db'}",
            landing_dir=work / "landing",
            ingest_local_max_bytes=0,
            spark_shuffle_partitions=4,
        )
        plan, ruleset = registration_batch(base)
        source, warmup = work / "extract.csv", work / "warmup.csv"
        console.print(f"writing {args.rows:,} rows …")
        write_extract(source, args.rows)
        write_extract(warmup, args.warmup_rows)
        size_mb = source.stat().st_size / 1e6

        def timed(settings: Settings) -> float:
            def run(path: Path) -> None:
                import shutil

                shutil.rmtree(settings.lake_path, ignore_errors=True)  # a fresh batch each time
                summary = ingest_batch(settings, plan, path, ruleset)
                assert summary.rows_read == summary.rows_accepted + summary.rows_quarantined

            spark_session(settings)  # started before the clock: a service keeps it running
            wall, _cpu, _runs = warm_median(run, warmup=warmup, source=source, repeat=args.repeat)
            stop_spark()
            return wall

        results: dict[str, float] = {}
        stop_spark()
        results["local[2]"] = timed(
            base.model_copy(update={"spark_master": "local[2]", "lake_root": str(work / "l")})
        )
        spec = cluster.ClusterSpec(
            workers=2, cores=1, memory=args.worker_memory, port=_free_port(),
            webui_port=_free_port(),
        )  # fmt: skip
        cluster_home = base.model_copy(update={"home": work / "cluster"})
        state = cluster.up(cluster_home, spec)
        try:
            on_cluster = base.model_copy(
                update={
                    "spark_master": state.url,
                    "spark_executor_memory": "1g",
                    "lake_root": str(work / "c"),
                }
            )
            results["standalone 2 workers × 1 core"] = timed(on_cluster)
        finally:
            stop_spark()
            cluster.down(cluster_home)
        local, standalone = results["local[2]"], results["standalone 2 workers × 1 core"]
        per_core = args.rows / standalone / 2
        estimate = ESTIMATE_ROWS / (per_core * ESTIMATE_WORKERS * spec.cores)
        table = Table(title=f"Spark ingest of {args.rows:,} rows ({size_mb:.0f} MB CSV), 2 cores")
        for column in ("engine", "seconds", "rows/s", "÷ local[2]"):
            table.add_column(column)
        for name, seconds in results.items():
            table.add_row(name, f"{seconds:.1f}", f"{args.rows / seconds:,.0f}",
                          f"{seconds / local:.2f}×")  # fmt: skip
        console.print(table)
        console.print(
            f"cluster ÷ local[2] = {standalone / local:.2f}× (same cores; median of "
            f"{args.repeat} after a {args.warmup_rows:,}-row warm-up). Per core on the cluster: "
            f"{per_core:,.0f} rows/s → paper estimate, {ESTIMATE_ROWS:,} rows on "
            f"{ESTIMATE_WORKERS} one-core workers: {estimate / 60:.1f} min if it scales linearly"
        )
        out = {
            "rows": args.rows,
            "seconds": results,
            "ratio_cluster_to_local": standalone / local,
            "rows_per_second_per_core": per_core,
            "estimate_minutes_100m_on_10_workers": estimate / 60,
        }
        args.results_dir.mkdir(parents=True, exist_ok=True)
        (args.results_dir / f"cluster-{args.rows}.json").write_text(
            json.dumps(out, ensure_ascii=False, indent=2)
        )
        return out


if __name__ == "__main__":
    main()
