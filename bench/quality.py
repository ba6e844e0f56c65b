"""Quality-gate benchmark: the gate's one-pass evaluation next to one plain Spark scan.

``uv run python -m bench.quality --rows 1000000`` writes a registration extract with 0.5% bad
rows, then times in the same Spark session (1) one plain scan of the file (every column
parsed and counted), (2) ``quality.evaluate.evaluate``: the resource's ~23 rules as column
expressions, key uniqueness, counts per rule and a masked failure sample, and optionally
(3) Great Expectations' own Spark validation of the same suite (``--ge``). Prints the ratio of
each to the plain scan (target: the gate within 3x of one scan).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from stdnum.cn import uscc

from bench.ingest import HEADERS

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
    from pipelines.plan import ItemSpec
    from quality.rules import build_ruleset

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
    parser.add_argument("--ge", action="store_true", help="also time GE's own Spark validation")
    args = parser.parse_args(argv)
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="govshare-bench-quality-"))
    try:
        from pyspark.sql import functions as F

        from infra.settings import Settings
        from pipelines.spark import spark_session
        from quality.evaluate import classify, evaluate, read_source

        settings = Settings(home=work / "home", spark_master="local[2]")
        path = work / "registration.csv"
        bad = write_extract(path, args.rows)
        spark = spark_session(settings)
        rules = ruleset()
        read_source(spark, path).limit(1).collect()  # warm-up: JVM, code paths

        started = time.perf_counter()
        frame = read_source(spark, path)
        frame.agg(F.count(F.lit(1)), *(F.count(F.col(f"`{c}`")) for c in frame.columns)).collect()
        scan = time.perf_counter() - started

        started = time.perf_counter()
        result = evaluate(read_source(spark, path), rules, spark=spark, settings=settings)
        gate = time.perf_counter() - started
        assert result.rows_read == args.rows and result.rows_failed == bad, (result, bad)

        timings = [("一次普通扫描 plain Spark scan", scan), ("质检一遍 gate (one pass)", gate)]
        if args.ge:
            from quality.expectations import validate_with_ge

            started = time.perf_counter()
            classified = classify(read_source(spark, path), rules, spark=spark, settings=settings)
            validate_with_ge(classified, rules)
            timings.append(("GE Spark 校验 GE validation", time.perf_counter() - started))

        table = Table(
            title=f"质检基准 quality benchmark: {args.rows:,} 行, {len(rules.rules)} 条规则"
        )
        for col in ("步骤 step", "秒 s", "行/秒 rows/s", "相对扫描 × scan"):
            table.add_column(col, justify="right")
        for name, seconds in timings:
            table.add_row(
                name, f"{seconds:.2f}", f"{args.rows / seconds:,.0f}", f"{seconds / scan:.2f}"
            )
        console.print(table)
        console.print(
            f"不合格 failing rows: {result.rows_failed:,}，合格率 pass rate {result.pass_rate:.3%}"
        )
        return {
            "rows": args.rows,
            "rules": len(rules.rules),
            "seconds": {name: round(s, 3) for name, s in timings},
            "ratio": round(gate / scan, 2),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
