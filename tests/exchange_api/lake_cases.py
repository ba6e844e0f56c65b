"""Real Delta tables in the lake layout the exchange serves, small enough to reason about.

Themes are written in the theme builder's layout (key-hash buckets, sorted files) with
``bench.serving.write_theme_table``; validated tables as plain Delta tables. Every value a
test asserts on is chosen here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake
from stdnum.cn import ric, uscc

from bench.serving import provenance_map, write_theme_table
from lake.delta import TableRef

BUILT = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
POPULATION = "000004001/000001"


def person_id(region: str, birth: str, seq: int) -> str:
    base = f"{region}{birth}{seq:03d}"
    return base + ric.calc_check_digit(base + "0")


def company(n: int, region: str = "330106") -> str:
    base = f"91{region}{n:09d}"
    return base + uscc.calc_check_digit(base)


# The people tests talk about; everyone else is background for the aggregates.
ZHANG = person_id("110101", "19800101", 11)  # 张三丰, married, insured, alive
LI = person_id("110101", "19900202", 22)  # 李四, single, not insured
DEAD = person_id("110102", "19400303", 31)  # 王五, deceased
UNKNOWN = person_id("110102", "19700101", 41)  # valid, not in the theme
ACME = company(1)  # 杭州测试一号有限公司, holds a valid 营业执照
SMALL_REGION = "330183"  # only three enterprises here: a cell below k


def _person_table() -> pa.Table:
    rows = [
        (ZHANG, "张三丰", "男", date(1980, 1, 1), "浙江省杭州市西湖区文三路100号", "已婚",
         "参保缴费", None, True),
        (LI, "李四", "女", date(1990, 2, 2), "浙江省杭州市上城区解放路8号", "未婚", "暂停缴费",
         None, True),
        (DEAD, "王五", "男", date(1940, 3, 3), "浙江省杭州市拱墅区莫干山路1号", "已婚", None,
         date(2020, 5, 1), False),
    ]  # fmt: skip
    for n in range(60):
        birth = date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
        seq = 100 + n
        rows.append(
            (person_id("110105", birth.strftime("%Y%m%d"), seq), f"赵{n}", "男女"[seq % 2], birth,
             "北京市朝阳区建国路1号", "已婚" if n % 3 else "未婚", "参保缴费", None, True)
        )  # fmt: skip
    columns = list(zip(*rows, strict=True))
    names = ["身份证号", "姓名", "性别", "出生日期", "户籍地址", "婚姻状况", "参保状态",
             "死亡日期", "是否在世"]  # fmt: skip
    data = {name: list(values) for name, values in zip(names, columns, strict=True)}
    table = pa.table(
        {
            **{n: pa.array(data[n], pa.string()) for n in names if n not in
               ("出生日期", "死亡日期", "是否在世")},
            "出生日期": pa.array(data["出生日期"], pa.date32()),
            "死亡日期": pa.array(data["死亡日期"], pa.date32()),
            "是否在世": pa.array(data["是否在世"], pa.bool_()),
        }
    ).select(names)  # fmt: skip
    sources = {n: POPULATION for n in ("姓名", "性别", "出生日期", "户籍地址")}
    sources |= {"婚姻状况": "000005001/000001", "参保状态": "000003001/000002"}
    sources |= {"是否在世": "000004001/000002"}
    return table.append_column("_provenance", provenance_map(len(table), sources, BUILT))


def _enterprise_table() -> pa.Table:
    codes = [ACME] + [company(n) for n in range(2, 26)]
    codes += [company(100 + n, SMALL_REGION) for n in range(3)]
    n = len(codes)
    table = pa.table(
        {
            "统一社会信用代码": codes,
            "企业名称": [f"杭州测试{i}号有限公司" for i in range(1, n + 1)],
            "法定代表人": ["张三丰"] + [f"钱{i}" for i in range(2, n + 1)],
            "注册资本": pa.array([Decimal(f"{i * 1000}.50") for i in range(1, n + 1)],
                                 pa.decimal128(18, 2)),
            "企业状态": ["存续"] * (n - 2) + ["注销", "吊销"],
            "纳税信用等级": ["A"] * n,
            "参保人数": pa.array([10 + i for i in range(n)], pa.int64()),
            "行政处罚次数": pa.array([0] * n, pa.int64()),
            "有效证照数": pa.array([1] * n, pa.int64()),
        }
    )  # fmt: skip
    sources = {
        "企业名称": "000001001/000001", "法定代表人": "000001001/000001",
        "注册资本": "000001001/000001", "企业状态": "000001001/000001",
        "纳税信用等级": "000002001/000001", "参保人数": "000003001/000001",
    }  # fmt: skip
    return table.append_column("_provenance", provenance_map(n, sources, BUILT))


def _licences() -> pa.Table:
    return pa.table(
        {
            "证照标识": ["L1", "L2", "L3"],
            "证照类型": ["营业执照", "食品经营许可证", "营业执照"],
            "持证主体代码": [ACME, ACME, company(2)],
            "持证主体名称": ["杭州测试1号有限公司"] * 2 + ["杭州测试2号有限公司"],
            "证照编号": ["N1", "N2", "N3"],
            "发证机关": ["杭州市市场监督管理局"] * 3,
            "发证日期": pa.array([date(2020, 1, 1)] * 3, pa.date32()),
            "有效期至": pa.array([date(2040, 1, 1), date(2024, 1, 1), None], pa.date32()),
            "证照状态": ["有效", "有效", "注销"],
            "_ingested_at": pa.array([BUILT] * 3, pa.timestamp("us", tz="UTC")),
        }
    )


def _registrations() -> pa.Table:
    n = 40
    return pa.table(
        {
            "统一社会信用代码": [company(i) for i in range(1, n + 1)],
            "企业名称": [f"杭州测试{i}号有限公司" for i in range(1, n + 1)],
            "法定代表人": [f"孙悟空{i}" for i in range(n)],
            "注册资本": pa.array([Decimal("100.00")] * n, pa.decimal128(18, 2)),
            "成立日期": pa.array([date(2021, 1, 2)] * n, pa.date32()),
            "住所": ["杭州市西湖区文三路1号"] * n,
            "行政区划代码": ["330106"] * (n - 5) + ["330183"] * 5,
            "企业状态": ["存续"] * n,
            "行业代码": ["C13"] * 20 + ["I65"] * 20,
            "_ingested_at": pa.array([BUILT] * n, pa.timestamp("us", tz="UTC")),
        }
    )


def _contributions() -> pa.Table:
    """社保缴费: 30 people, 缴费基数 (a sensitive personal amount) of 5000 each."""
    n = 30
    return pa.table(
        {
            "身份证号": [person_id("110105", "19700101", 200 + i) for i in range(n)],
            "姓名": [f"周{i}" for i in range(n)],
            "参保单位统一社会信用代码": [ACME] * n,
            "险种": ["养老"] * n,
            "缴费月份": ["202601"] * n,
            "缴费基数": pa.array([Decimal("5000.00")] * n, pa.decimal128(18, 2)),
            "参保状态": ["参保缴费"] * n,
            "_ingested_at": pa.array([BUILT] * n, pa.timestamp("us", tz="UTC")),
        }
    )


def build_lake(root: Path) -> str:
    """Write every table the data tests read; returns the lake root."""
    lake = str(root.resolve())
    write_theme_table(TableRef(lake, "themes", "theme_person"), _person_table(), key="身份证号",
                      buckets=4, row_group_rows=8)  # fmt: skip
    write_theme_table(
        TableRef(lake, "themes", "theme_enterprise"), _enterprise_table(), key="统一社会信用代码",
        buckets=4, row_group_rows=8,
    )  # fmt: skip
    write_deltalake(TableRef(lake, "validated", "sjj_e_licences").uri, _licences())
    write_deltalake(
        TableRef(lake, "validated", "scjg_enterprise_registration").uri, _registrations()
    )
    write_deltalake(TableRef(lake, "validated", "rs_person_contributions").uri, _contributions())
    return lake
