"""The lake the attack tests read: the exchange tests' lake plus the tables the attacks need.

人口基本信息 (ga_population) describes the same people as 一人一档, and 个人社保缴纳信息 has four
monthly rows per person, so attacks on the privacy unit and on contribution bounds have data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake

from lake.delta import TableRef
from tests.exchange_api.lake_cases import build_lake, person_id

PEOPLE = 30
MONTHS = 4
BUILT = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


def _population() -> pa.Table:
    ids = [person_id("110105", f"19{60 + n % 40:02d}0101", 300 + n) for n in range(40)]
    n = len(ids)
    return pa.table(
        {
            "身份证号": ids,
            "姓名": [f"吴{i}" for i in range(n)],
            "性别": ["男女"[i % 2] for i in range(n)],
            "出生日期": pa.array([BUILT.date() - timedelta(days=9000 + i) for i in range(n)]),
            "民族": ["汉族"] * n,
            "户籍地址": ["北京市朝阳区建国路1号"] * n,
            "行政区划代码": ["110105"] * n,
            "_ingested_at": pa.array([BUILT] * n, pa.timestamp("us", tz="UTC")),
        }
    )


def _monthly_contributions() -> pa.Table:
    """30 people, each with 4 monthly rows of 缴费基数 5000."""
    ids = [person_id("110105", "19700101", 200 + i) for i in range(PEOPLE)]
    rows = [(pid, f"2026{m + 1:02d}") for pid in ids for m in range(MONTHS)]
    n = len(rows)
    return pa.table(
        {
            "身份证号": [r[0] for r in rows],
            "姓名": ["周某"] * n,
            "参保单位统一社会信用代码": ["91330106000000001X"] * n,
            "险种": ["养老"] * n,
            "缴费月份": [r[1] for r in rows],
            "缴费基数": pa.array([Decimal("5000.00")] * n, pa.decimal128(18, 2)),
            "参保状态": ["参保缴费"] * n,
            "_ingested_at": pa.array([BUILT] * n, pa.timestamp("us", tz="UTC")),
        }
    )


def build_attack_lake(root: Path) -> str:
    lake = build_lake(root)
    write_deltalake(TableRef(lake, "validated", "ga_population").uri, _population())
    write_deltalake(
        TableRef(lake, "validated", "rs_person_contributions").uri,
        _monthly_contributions(),
        mode="overwrite",
    )
    # 公安's own second extract of the population without 性别: a re-mount onto it leaves a
    # catalogued column missing from the data (a mount of another department's table is
    # refused before that question arises).
    write_deltalake(
        TableRef(lake, "validated", "ga_population_slim").uri,
        _population().drop_columns(["性别"]),
    )
    return lake
