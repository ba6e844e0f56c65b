"""Value generators keyed by data item name, with a fallback by suffix and by data type.

The generator follows the catalogue rather than a hard-coded schema: a table plan says *whose*
rows a chunk holds (which persons, which enterprises) and fixes the values only it can know
(a marriage's date, a penalty's amount); every other column is looked up here by the item's
name as demo/catalog.py spells it. An item nobody has taught the registry still gets plausible
values from its data type, so adding an item to the catalogue never breaks generation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog.domain import DataType
from catalog.schemas import DataItemIn
from demo.catalog import DEPARTMENTS
from demo.synth import text
from demo.synth.identifiers import to_arrow
from demo.synth.world import INDUSTRIES, STATUSES, World

# What a generator may return: text as it will be written, or typed numpy values that
# ``to_text`` formats according to the item (dates per its length, money with two decimals).
Column: TypeAlias = pa.Array | np.ndarray


@dataclass
class Rows:
    """One chunk of one table: who the rows are about and the values the table plan fixed."""

    world: World
    rng: np.random.Generator
    n: int
    units: np.ndarray  # the plan's unit numbers (unique per row group), for sequence numbers
    person: np.ndarray | None = None
    enterprise: np.ndarray | None = None
    values: dict[str, Column] = field(default_factory=dict)
    protected: np.ndarray | None = None  # rows that carry a planted conflict: never defective

    def need_person(self) -> np.ndarray:
        if self.person is None:
            self.person = self.rng.integers(0, self.world.persons.n, size=self.n)
        return self.person

    def need_enterprise(self) -> np.ndarray:
        if self.enterprise is None:
            self.enterprise = self.rng.integers(0, self.world.enterprises.n, size=self.n)
        return self.enterprise


Generator = Callable[[Rows, DataItemIn], Column | None]

BY_NAME: dict[str, Generator] = {}
BY_SUFFIX: list[tuple[str, Generator]] = []


def by_name(*names: str) -> Callable[[Generator], Generator]:
    def register(func: Generator) -> Generator:
        for name in names:
            BY_NAME[name] = func
        return func

    return register


def by_suffix(*suffixes: str) -> Callable[[Generator], Generator]:
    def register(func: Generator) -> Generator:
        BY_SUFFIX.extend((s, func) for s in suffixes)
        return func

    return register


# --- persons ----------------------------------------------------------------------------------
@by_name("身份证号", "驾驶证号")
@by_suffix("身份证号")
def _ric(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.person_ids(rows.need_person())


@by_suffix("姓名")
def _name(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.person_names(rows.need_person())


@by_name("性别")
def _sex(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.person_sex(rows.need_person())


@by_name("出生日期")
def _birth(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.persons.birth[rows.need_person()]


@by_name("民族")
def _ethnic(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.person_ethnic(rows.need_person())


@by_name("户籍地址", "房屋坐落")
def _home(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.person_addresses(rows.need_person())


# --- enterprises ------------------------------------------------------------------------------
@by_name("法定代表人")
def _legal_rep(rows: Rows, _item: DataItemIn) -> Column:
    e = rows.need_enterprise()
    return rows.world.person_names(rows.world.enterprises.legal_rep[e])


@by_name("注册资本")
def _capital(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.enterprises.capital[rows.need_enterprise()]


@by_name("成立日期")
def _established(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.enterprises.established[rows.need_enterprise()]


@by_name("住所", "经营场所")
def _seat(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.enterprise_addresses(rows.need_enterprise())


@by_name("企业状态")
def _status(rows: Rows, _item: DataItemIn) -> Column:
    return text.take(
        text.strings(list(STATUSES)), rows.world.enterprises.status[rows.need_enterprise()]
    )


@by_name("行业代码")
def _industry(rows: Rows, _item: DataItemIn) -> Column:
    codes = text.strings([i.code for i in INDUSTRIES])
    return text.take(codes, rows.world.enterprises.industry[rows.need_enterprise()])


@by_name("参保人数")
def _headcount(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.enterprises.headcount[rows.need_enterprise()].astype(np.int64)


@by_name("行政区划代码")
def _region(rows: Rows, _item: DataItemIn) -> Column:
    if rows.enterprise is None and rows.person is not None:
        return text.ints(rows.world.person_home_codes(rows.person), 6)
    return text.ints(rows.world.enterprise_region_codes(rows.need_enterprise()), 6)


@by_suffix("统一社会信用代码")
def _uscc(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.enterprise_codes(rows.need_enterprise())


@by_suffix("企业名称", "单位名称", "机构名称")
def _enterprise_name(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.enterprise_names(rows.need_enterprise())


@by_suffix("名称")
def _organisation_name(rows: Rows, _item: DataItemIn) -> Column:
    return rows.world.enterprise_names(rows.need_enterprise())


@by_suffix("单位", "机关")
def _authority(rows: Rows, _item: DataItemIn) -> Column:
    """Offices that file, supervise or issue: the demo city's own departments."""
    return text.pick([name for _k, name, _s, _c in DEPARTMENTS], rows.rng, rows.n)


# --- generic by suffix --------------------------------------------------------------------------
@by_suffix("地址", "坐落", "场所", "住所")
def _address(rows: Rows, _item: DataItemIn) -> Column:
    if rows.person is not None:
        return rows.world.person_addresses(rows.person)
    return rows.world.enterprise_addresses(rows.need_enterprise())


@by_suffix("有效期至", "有效期")
def _valid_until(rows: Rows, _item: DataItemIn) -> Column:
    days = rows.rng.integers(-365, 6 * 365, size=rows.n).astype("timedelta64[D]")
    return (rows.world.batch + days).astype("datetime64[D]")


@by_suffix("准驾车型")
def _vehicle_class(rows: Rows, _item: DataItemIn) -> Column:
    return text.pick(
        ["C1", "C2", "B2", "A2", "A1", "B1", "D"], rows.rng, rows.n, [70, 15, 5, 3, 2, 2, 3]
    )


@by_suffix("月份", "所属期")
def _month(rows: Rows, _item: DataItemIn) -> Column:
    back = rows.rng.integers(1, 24, size=rows.n).astype("timedelta64[M]")
    return text.months((rows.world.batch.astype("datetime64[M]") - back).astype("datetime64[D]"))


# --- fallback by data type ------------------------------------------------------------------------
def _past_dates(rows: Rows) -> np.ndarray:
    back = rows.rng.integers(1, 5 * 365, size=rows.n).astype("timedelta64[D]")
    return (rows.world.batch - back).astype("datetime64[D]")


def _char(rows: Rows, item: DataItemIn) -> Column:
    width = min(item.length or 12, 12)
    if item.is_key:  # keys must be unique: derive them from the plan's unit numbers
        return text.ints(rows.units + 1, width)
    alphabet = np.frombuffer(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", dtype=np.uint8)
    return to_arrow(alphabet[rows.rng.integers(0, len(alphabet), size=(rows.n, width))])


_MEMO = ["情况属实", "已核查", "按规定办理", "无", "详见附件", "材料齐全", "待补充"]

FALLBACK: dict[DataType, Callable[[Rows, DataItemIn], Column]] = {
    DataType.CHAR: _char,
    DataType.MEMO: lambda rows, _i: text.pick(_MEMO, rows.rng, rows.n),
    DataType.DATE: lambda rows, _i: _past_dates(rows),
    DataType.DATETIME: lambda rows, _i: text.join(
        text.dates(_past_dates(rows)), " ", text.ints(rows.rng.integers(8, 18, rows.n), 2), ":00:00"
    ),
    DataType.MONEY: lambda rows, _i: np.round(rows.rng.lognormal(8, 1.5, rows.n), 2),
    DataType.NUMBER: lambda rows, _i: rows.rng.integers(0, 1000, rows.n),
    DataType.INTEGER: lambda rows, _i: rows.rng.integers(0, 1000, rows.n),
    DataType.DOUBLE: lambda rows, _i: np.round(rows.rng.random(rows.n) * 1000, 4),
    DataType.FLOAT: lambda rows, _i: np.round(rows.rng.random(rows.n) * 1000, 4),
    DataType.LOGICAL: lambda rows, _i: text.pick(["是", "否"], rows.rng, rows.n),
    DataType.GENERAL: lambda rows, _i: text.pick(["（附件）"], rows.rng, rows.n),
}
_SUFFIX_BY_TYPE = {
    "日期": lambda rows: _past_dates(rows),
    "金额": lambda rows: np.round(rows.rng.lognormal(8, 1.5, rows.n), 2),
    "余额": lambda rows: np.round(rows.rng.lognormal(9, 1.5, rows.n), 2),
}


def generate(rows: Rows, item: DataItemIn) -> Column:
    """The item's values for this chunk: plan, then name, then suffix, then data type."""
    if item.name in rows.values:
        return rows.values[item.name]
    func = BY_NAME.get(item.name)
    if func is None:
        func = next((f for s, f in BY_SUFFIX if item.name.endswith(s)), None)
    if func is not None:
        value = func(rows, item)
        if value is not None:
            return value
    for suffix, make in _SUFFIX_BY_TYPE.items():
        if item.name.endswith(suffix):
            return make(rows)
    return FALLBACK[item.data_type](rows, item)


def to_text(item: DataItemIn, value: Any, n: int) -> pa.Array:
    """Typed values as the text a department's export writes for this item."""
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, pa.Array):
        result = value if value.type == pa.string() else pc.cast(value, pa.string())
    elif np.issubdtype(value.dtype, np.datetime64):
        result = text.dates(value.astype("datetime64[D]"), compact=item.length == 8)
    elif np.issubdtype(value.dtype, np.floating):
        if item.data_type is DataType.MONEY:
            result = text.money(value.astype(np.float64))
        else:
            result = pc.cast(pa.array(value), pa.string())
    else:
        result = text.ints(value)
    if len(result) != n:
        raise ValueError(f"{item.name}: {len(result)} values for {n} rows")
    return result


def expiry(issued: np.ndarray, valid_years: np.ndarray) -> np.ndarray:
    """Validity end (有效期至): the day before the anniversary, NaT when valid for ever (长期)."""
    ends = issued + np.rint(valid_years * 365.25).astype("timedelta64[D]") - np.timedelta64(1, "D")
    return np.where(valid_years > 0, ends, np.datetime64("NaT")).astype("datetime64[D]")
