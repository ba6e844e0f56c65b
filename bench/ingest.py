"""Ingest benchmark: our end-to-end batch next to plain Spark and DuckDB in the same run.

``uv run python -m bench.ingest --rows 1000000`` writes an 8-column registration extract,
then times (1) plain Spark CSV → Parquet with a given schema, (2) DuckDB CSV → Parquet, and
(3) ``pipelines.ingest.ingest_file`` with the resource's quality rules: read, standardise,
check every rule, quarantine, gate, and commit raw, validated (and quarantine) Delta tables.
Prints rows/s, the ratio to each baseline (wall and JVM CPU time) and the peak resident
memory of the Python process and of Spark's JVM.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table
from stdnum.cn import uscc

HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "法定代表人",
    "注册资本",
    "成立日期",
    "住所",
    "行政区划代码",
    "企业状态",
    "行业代码",
]


def write_extract(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for n in range(rows):
            base = f"91330106{n:09d}"
            founded = f"20{n % 24:02d}-0{n % 9 + 1}-1{n % 9}"
            name = f"杭州测试{n}有限公司"
            code = base + uscc.calc_check_digit(base)
            address = "杭州市西湖区文三路1号"
            writer.writerow(
                [code, name, "张三", f"{n % 9999}.50", founded, address, "330106", "存续", "6513"]
            )


def _jvm_cpu_seconds(spark) -> float:  # type: ignore[no-untyped-def]
    """CPU time of Spark's JVM so far: a fair measure when other work shares the cores."""
    pid = spark.sparkContext._gateway.proc.pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _jvm_peak_mb(spark) -> float | None:  # type: ignore[no-untyped-def]
    try:
        pid = spark.sparkContext._gateway.proc.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except Exception:
        return None
    return None


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="govshare-bench-"))
    try:
        from catalog.demo import seed_demo
        from catalog.store import Catalog
        from infra.settings import Settings
        from pipelines.ingest import ingest_file
        from pipelines.jobs import _plan, _ruleset
        from pipelines.spark import spark_session

        settings = Settings(
            home=work / "home",
            database_url=f"sqlite:///{work / 'c.db'}",
            landing_dir=work / "landing",
        )
        catalog = Catalog(settings)
        catalog.migrate()
        with catalog.unit() as ctx:
            seed_demo(ctx)
        plan = _plan(catalog, "000001001/000001")
        # The job as the scheduler runs it: every quality rule of the resource in the pass.
        ruleset = _ruleset(catalog, "000001001/000001")
        source = work / "extract.csv"
        console.print(f"writing {args.rows:,} rows …")
        write_extract(source, args.rows)
        size_mb = source.stat().st_size / 1e6
        spark = spark_session(settings)
        from pyspark.sql.types import StringType, StructField, StructType

        schema = StructType([StructField(h, StringType()) for h in HEADERS])
        spark.read.option("header", True).schema(schema).csv(str(source)).limit(
            10
        ).collect()  # warm up
        results: dict[str, float] = {}
        cpu: dict[str, float] = {}

        def own_cpu() -> float:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime

        def timed(name: str, run, clock) -> None:  # type: ignore[no-untyped-def]
            wall, used = time.perf_counter(), clock()
            run()
            results[name] = time.perf_counter() - wall
            cpu[name] = clock() - used

        def spark_cpu() -> float:
            return _jvm_cpu_seconds(spark)

        timed(
            "Spark CSV → Parquet",
            lambda: (
                spark.read.option("header", True)
                .schema(schema)
                .csv(str(source))
                .write.mode("overwrite")
                .parquet(str(work / "spark_out"))
            ),
            spark_cpu,
        )
        import duckdb

        timed(
            "DuckDB CSV → Parquet",
            lambda: duckdb.sql(
                f"COPY (SELECT * FROM read_csv('{source}', header=true, all_varchar=true)) "
                f"TO '{work / 'duck.parquet'}' (FORMAT parquet)"
            ),
            own_cpu,
        )
        ours_name = "govshare ingest (raw+validated Delta)"
        summaries = []
        timed(
            ours_name,
            lambda: summaries.append(
                ingest_file(settings, plan, source, received_at=datetime.now(UTC), ruleset=ruleset)
            ),
            spark_cpu,
        )
        summary = summaries[0]
        assert summary.rows_read == summary.rows_accepted + summary.rows_quarantined == args.rows
        ours = results[ours_name]
        table = Table(
            title=f"ingest {args.rows:,} rows × {len(HEADERS)} columns ({size_mb:.0f} MB CSV)"
        )
        for col in ("path", "seconds", "rows/s", "ours ÷ this", "CPU s", "ours ÷ this (CPU)"):
            table.add_column(col)
        for name, seconds in results.items():
            table.add_row(
                name,
                f"{seconds:.2f}",
                f"{args.rows / seconds:,.0f}",
                f"{ours / seconds:.2f}×",
                f"{cpu[name]:.2f}",
                f"{cpu[ours_name] / cpu[name]:.2f}×" if cpu[name] else "-",
            )
        console.print(table)
        console.print(
            "CPU s: the Spark JVM's CPU time for the Spark paths, this process's for DuckDB; "
            "it stays comparable when other work shares the machine, wall time does not."
        )
        peak_py = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_jvm = _jvm_peak_mb(spark)
        console.print(
            f"peak memory: python {peak_py:.0f} MB, Spark JVM {peak_jvm or float('nan'):.0f} MB"
        )
        out = {
            "rows": args.rows,
            "seconds": results,
            "cpu_seconds": cpu,
            "peak_python_mb": peak_py,
            "peak_jvm_mb": peak_jvm,
        }
        results_dir = Path(__file__).parent / "results"
        results_dir.mkdir(exist_ok=True)
        (results_dir / f"ingest-{args.rows}.json").write_text(
            json.dumps(out, ensure_ascii=False, indent=2)
        )
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
