"""Quality-gate benchmark: the gate's one-pass evaluation next to one plain Spark scan.

``uv run python -m bench.quality --rows 1000000`` writes a registration extract with 0.5% bad
rows, then times in the same Spark session (1) one plain scan of the file (every column
parsed and counted), (2) ``quality.evaluate.evaluate``: the resource's ~23 rules evaluated by
the ingest job's task pass on Arrow data, key uniqueness, counts per rule and a masked
failure sample, and optionally (3) Great Expectations' own validation of the same suite
(``--ge``, pandas engine). Each path runs once on 10,000 rows to warm up, then ``--repeat``
times; prints the median's ratio to the plain scan (target: the gate within 3x of one scan).
CPU seconds (Spark's JVM, its Python workers and this driver) are printed beside wall time,
and their ratio too: on a shared machine wall time mostly measures the neighbours.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from stdnum.cn import uscc

from bench import scratch_run, warm_median
from bench.ingest import HEADERS, _jvm_cpu_seconds

SPECS = {
    "统一社会信用代码": ("C", 18, True, True),
    "企业名称": ("C", 200, True, False),
    "法定代表人": ("C", 50, False, False),
    "注册资本": ("Y", 18, False, False),
    "成立日期": ("D", None, False, False),
    "住所": ("C", 200, False, False),
    "行政区划代码": ("C", 6, False, False),
    "企业状态": ("C", 10, False, False),
    "行业代码": ("C", 4, False, False),
}


def write_extract(path: Path, rows: int, *, bad_every: int = 200) -> int:
    """Registration rows; every ``bad_every``-th row has one defect (wrong check, future date)."""
    bad = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for n in range(rows):
            base = f"91330106{n:09d}"
            code = base + uscc.calc_check_digit(base)
            founded = f"20{n % 24:02d}-0{n % 9 + 1}-1{n % 9}"
            if n % bad_every == 0:
                bad += 1
                if n % (2 * bad_every) == 0:
                    code = code[:-1] + ("1" if code.endswith("0") else "0")
                else:
                    founded = "2099-01-01"
            writer.writerow(
                [code, f"杭州测试{n}有限公司", "张三", f"{n % 9999}.50", founded,
                 "杭州市西湖区文三路1号", "330106", "存续", "6513"]
            )  # fmt: skip
    return bad


def ruleset():  # type: ignore[no-untyped-def]
    from catalog.domain import DataType
    from catalog.identifiers import identifier_kind
    from checks.plan import ItemSpec
    from checks.rules import build_ruleset

    items = [
        ItemSpec(name, DataType(t), length, required, key, identifier_kind(name))
        for name, (t, length, required, key) in SPECS.items()
    ]
    return build_ruleset(
        resource_code="000001001/000001",
        resource_name="企业登记信息",
        provider_code="1133010067FD41C717",
        table="scjg_enterprise_registration",
        items=items,
        keys=["统一社会信用代码"],
        today=date(2026, 3, 3),
        masks={"法定代表人": "name"},
    )


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per path (median)")
    parser.add_argument("--ge", action="store_true", help="also time GE's own validation")
    args = parser.parse_args(argv)
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="govshare-bench-quality-"))
    with scratch_run(work):
        from pyspark.sql import functions as F

        from infra.settings import Settings
        from pipelines.spark import spark_session
        from quality.evaluate import evaluate, read_source

        settings = Settings(home=work / "home", spark_master="local[2]")
        path = work / "registration.csv"
        warmup = work / "warmup.csv"
        bad = write_extract(path, args.rows)
        write_extract(warmup, 10_000)
        spark = spark_session(settings)
        rules = ruleset()

        def scan(source: Path) -> None:
            frame = read_source(spark, source)
            frame.agg(
                F.count(F.lit(1)), *(F.count(F.col(f"`{c}`")) for c in frame.columns)
            ).collect()

        results = []

        def gate(source: Path) -> None:
            results.append(
                evaluate(read_source(spark, source), rules, spark=spark, settings=settings)
            )

        def spark_cpu() -> float:
            return float(_jvm_cpu_seconds(spark))

        scan_s, scan_cpu, _ = warm_median(
            scan, warmup=warmup, source=path, repeat=args.repeat, clock=spark_cpu
        )
        gate_s, gate_cpu, _ = warm_median(
            gate, warmup=warmup, source=path, repeat=args.repeat, clock=spark_cpu
        )
        result = results[-1]
        assert result.rows_read == args.rows and result.rows_failed == bad, (result, bad)
        timings: list[tuple[str, float, float | None]] = [
            ("一次普通扫描 plain Spark scan", scan_s, scan_cpu),
            ("质检一遍 gate (one pass)", gate_s, gate_cpu),
        ]
        if args.ge:
            import pyarrow.csv as pacsv

            from quality.evaluate import classified_table
            from quality.expectations import validate_with_ge

            started = time.perf_counter()
            options = pacsv.ConvertOptions(column_types={h: "string" for h in HEADERS})
            table = pacsv.read_csv(path, convert_options=options)
            validate_with_ge(classified_table(table, rules, settings), rules)
            timings.append(("GE 校验 GE validation (pandas)", time.perf_counter() - started, None))

        table = Table(
            title=f"质检基准 quality benchmark: {args.rows:,} 行, {len(rules.rules)} 条规则"
        )
        columns = ("步骤 step", "秒 s", "行/秒 rows/s", "相对扫描 × scan", "CPU 秒 s", "CPU × scan")
        for col in columns:
            table.add_column(col, justify="right")
        for name, seconds, cpu in timings:
            table.add_row(
                name,
                f"{seconds:.2f}",
                f"{args.rows / seconds:,.0f}",
                f"{seconds / scan_s:.2f}",
                "" if cpu is None else f"{cpu:.2f}",
                "" if cpu is None else f"{cpu / scan_cpu:.2f}",
            )
        console.print(table)
        console.print(
            f"不合格 failing rows: {result.rows_failed:,}，合格率 pass rate {result.pass_rate:.3%}"
        )
        return {
            "rows": args.rows,
            "rules": len(rules.rules),
            "seconds": {name: round(s, 3) for name, s, _ in timings},
            "ratio": round(gate_s / scan_s, 2),
            "cpu_ratio": round(gate_cpu / scan_cpu, 2),
        }


if __name__ == "__main__":
    main()
