"""Which rows each mounted resource's extract holds, and how its department delivers it.

A plan counts the table's *units* (persons, enterprises, marriages...) and turns a slice of
them into a :class:`Rows` chunk: who each row is about and the values only this table knows.
Column names and the remaining values come from the catalogue and the value registry, so the
extract follows demo/catalog.py. Event lists two tables must agree on (licences the housing
bureau and the licence library both hold) are computed once per world and cached on it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog.schemas import DataItemIn
from demo.catalog import DEPT, RESOURCES, DemoResource, parse_item
from demo.synth import text
from demo.synth.pools import stream
from demo.synth.values import Rows, expiry
from demo.synth.world import DAY, MIGRATION_REASONS, World, days_between, years

FORMATS = ("csv", "xlsx", "jsonl", "parquet")
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")


@dataclass(frozen=True)
class Delivery:
    """How a department sends its extract: tax and social insurance systems still export
    GB18030 CSV from Windows, smaller offices send spreadsheets, newer systems Parquet or JSON."""

    format: str
    encoding: str | None = None  # CSV only

    def with_format(self, fmt: str | None) -> Delivery:
        if fmt is None or fmt == self.format:
            return self
        return Delivery(fmt, (self.encoding or "utf-8") if fmt == "csv" else None)


DELIVERY: dict[str, Delivery] = {
    "scjg_enterprise_registration": Delivery("csv", "utf-8"),
    "scjg_penalties": Delivery("xlsx"),
    "scjg_abnormal": Delivery("csv", "utf-8-sig"),
    "sw_tax_credit": Delivery("csv", "gb18030"),
    "sw_tax_paid": Delivery("csv", "gb18030"),
    "rs_enterprise_insurance": Delivery("xlsx"),
    "rs_person_contributions": Delivery("csv", "gb18030"),
    "ga_population": Delivery("parquet"),
    "ga_deregistration": Delivery("parquet"),
    "mz_marriage": Delivery("jsonl"),
    "wj_death_certificates": Delivery("jsonl"),
    "sjj_e_licences": Delivery("jsonl"),
    "zj_construction_licences": Delivery("xlsx"),
    "wj_medical_licences": Delivery("csv", "gb18030"),
}
GENERIC_DELIVERY = Delivery("csv", "utf-8")
# The resources that feed 一企一档 and 一人一档: generated unless --resources says otherwise.
DEFAULT_MOUNTS = tuple(DELIVERY)


def mounted_resources() -> dict[str, DemoResource]:
    """Mounted demo resources by lake table name, in catalogue order."""
    return {r.mount: r for r in RESOURCES if r.mount}


def items_of(resource: DemoResource) -> list[DataItemIn]:
    # parse_item is the demo catalogue's own parser of its compact item specs; reusing it keeps
    # one reading of 'name:type:length:flags'.
    return [parse_item(spec) for spec in resource.items]


@dataclass(frozen=True)
class Plan:
    units: Callable[[World], int]
    build: Callable[[World, np.ndarray, np.random.Generator], Rows]
    per_unit: float = 1.0  # expected rows per unit: sizes chunks and the progress bar


def _cached(
    world: World, key: str, make: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    if key not in world.cache:
        world.cache[key] = make()
    return world.cache[key]


def _between(rng: np.random.Generator, start: np.ndarray, end: np.datetime64) -> np.ndarray:
    """A day in [start, end], or ``end`` when start is already past it."""
    span = np.maximum(days_between(end, start), 0)
    days = np.minimum(start + (rng.random(len(start)) * (span + 1)).astype("timedelta64[D]"), end)
    return days.astype("datetime64[D]")


def _authority(world: World, enterprise: np.ndarray, suffix: str) -> pa.Array:
    names = text.strings(world.enterprise_regions.names(world.batch_year, province=False))
    return text.join(text.take(names, world.enterprises.region[enterprise]), suffix)


def _month(world: World, back: int) -> np.datetime64:
    return (world.batch.astype("datetime64[M]") - np.timedelta64(back, "M")).astype("datetime64[D]")


def _protect(units: np.ndarray, planted: np.ndarray) -> np.ndarray:
    return np.isin(units, planted)


# --- 市场监管 --------------------
def _registration(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    planted = np.fromiter(world.name_conflicts, dtype=np.int64)
    return Rows(world, rng, len(units), units, enterprise=units, protected=_protect(units, planted))


PENALTY_REASONS = [
    "销售不符合食品安全标准的食品", "未按规定公示年度报告", "发布虚假广告", "无照经营",
    "销售侵犯注册商标专用权的商品", "未按规定明码标价", "使用未经检验的特种设备",
    "生产销售不合格产品", "虚假宣传", "价格欺诈",
]  # fmt: skip
PENALTY_AMOUNTS = np.array([2000, 5000, 10000, 20000, 30000, 50000, 100000, 200000], float)


def _penalty_events(world: World) -> dict[str, np.ndarray]:
    rng = stream(world.seed, "penalty-events")
    e = world.enterprises
    weight = np.where(e.active, 1.0, 0.4)
    firm = rng.choice(e.n, size=max(1, round(0.15 * e.n)), p=weight / weight.sum())
    start = np.maximum(e.established[firm] + 30 * DAY, world.batch - years(3))
    date = _between(rng, start, world.batch - DAY)
    order = np.argsort(date, kind="stable")
    return {"firm": firm[order], "date": date[order]}


def _penalties(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    ev = _cached(world, "penalties", lambda: _penalty_events(world))
    firm, date = ev["firm"][units], ev["date"][units]
    abbr = text.strings(
        [
            (r.city[:1] or r.province[:1]) + r.name_in(world.batch_year)[:1]
            for r in world.enterprise_regions.regions
        ]
    )
    year = date.astype("datetime64[Y]").astype(np.int64) + 1970
    amount = PENALTY_AMOUNTS[rng.integers(0, len(PENALTY_AMOUNTS), len(units))]
    odd = rng.random(len(units)) < 0.2
    amount[odd] = np.round(rng.lognormal(np.log(8000), 1.0, int(odd.sum())), -2)
    return Rows(
        world,
        rng,
        len(units),
        units,
        enterprise=firm,
        values={
            "处罚决定书文号": text.join(
                text.take(abbr, world.enterprises.region[firm]),
                "市监处罚〔",
                text.ints(year),
                "〕",
                text.ints(units + 1),
                "号",
            ),
            "处罚事由": text.pick(PENALTY_REASONS, rng, len(units)),
            "处罚金额": amount,
            "处罚日期": date,
            "处罚机关": _authority(world, firm, "市场监督管理局"),
        },
    )


ABNORMAL_REASONS = [
    "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告的",
    "通过登记的住所或者经营场所无法联系的",
    "公示企业信息隐瞒真实情况、弄虚作假的",
    "未在市场监督管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息的",
]


def _abnormal_events(world: World) -> dict[str, np.ndarray]:
    rng = stream(world.seed, "abnormal-events")
    e = world.enterprises
    firm = np.sort(rng.choice(e.n, size=max(1, round(0.05 * e.n)), replace=False))
    listed = _between(
        rng,
        np.maximum(e.established[firm] + 180 * DAY, world.batch - years(4)),
        world.batch - 2 * DAY,
    )
    removed = _between(rng, listed + 30 * DAY, world.batch - DAY)
    removed = np.where(
        (rng.random(len(firm)) < 0.4) & (removed > listed), removed, np.datetime64("NaT")
    )
    return {"firm": firm, "listed": listed, "removed": removed.astype("datetime64[D]")}


def _abnormal(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    ev = _cached(world, "abnormal", lambda: _abnormal_events(world))
    return Rows(
        world,
        rng,
        len(units),
        units,
        enterprise=ev["firm"][units],
        values={
            "列入日期": ev["listed"][units],
            "列入原因": text.pick(ABNORMAL_REASONS, rng, len(units), [5, 3, 1, 1]),
            "移出日期": ev["removed"][units],
        },
    )


# --- 税务 --------------------
GRADES = ["A", "B", "M", "C", "D"]


def _tax_credit(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    e = world.enterprises
    evaluated = np.arange(world.batch_year - 4, world.batch_year - 1)  # published each April
    mid_year = np.array([np.datetime64(f"{y}-06-30") for y in evaluated])
    rated = (e.established[units][:, None] <= mid_year[None, :]) & (e.active | (e.status == 2))[
        units
    ][:, None]
    unit_i, year_i = np.nonzero(rated)
    firm = units[unit_i]
    grade = rng.choice(len(GRADES), size=len(firm), p=[0.12, 0.58, 0.18, 0.07, 0.05])
    grade[e.status[firm] == 2] = 4  # revoked licences go with grade D
    return Rows(
        world,
        rng,
        len(firm),
        firm * 8 + year_i,
        enterprise=firm,
        values={
            "评价年度": evaluated[year_i],
            "纳税信用等级": text.take(text.strings(GRADES), grade),
        },
    )


def _tax_paid(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    e = world.enterprises
    periods = np.array([_month(world, back) for back in (3, 2, 1)])
    paying = e.active[units][:, None] & (e.established[units][:, None] < periods[None, :])
    unit_i, period_i = np.nonzero(paying)
    firm = units[unit_i]
    base = rng.lognormal(np.log(20000), 1.2, len(units)) * (e.headcount[units] + 1) ** 0.6
    amount = np.round(base[unit_i] * rng.uniform(0.6, 1.4, len(firm)), 2)
    amount[rng.random(len(firm)) < 0.08] = 0.0
    names = world.enterprise_names(firm)
    planted = np.fromiter(world.name_conflicts, dtype=np.int64)
    conflict = np.isin(firm, planted)
    if conflict.any():
        variants = pa.array([world.name_conflicts[int(f)] for f in firm[conflict]], pa.string())
        names = pc.replace_with_mask(names, pa.array(conflict), variants)
    return Rows(
        world,
        rng,
        len(firm),
        firm * 4 + period_i,
        enterprise=firm,
        protected=conflict,
        values={"所属期": text.months(periods[period_i]), "纳税总额": amount, "企业名称": names},
    )


# --- 人社 --------------------
def _enterprise_insurance(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    firm = units[world.enterprises.headcount[units] > 0]
    return Rows(
        world,
        rng,
        len(firm),
        firm,
        enterprise=firm,
        values={
            "缴费状态": text.pick(["正常缴费", "欠费", "暂停缴费"], rng, len(firm), [95, 4, 1]),
            "统计月份": text.months(np.full(len(firm), _month(world, 1))),
        },
    )


INSURANCES = ["企业职工基本养老保险", "职工基本医疗保险", "失业保险", "工伤保险"]
INSURANCE_P = np.array([1.0, 1.0, 0.6, 0.5])


def _contributions(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    p = world.persons
    people = units[p.employer[units] >= 0]
    insured = rng.random((len(people), len(INSURANCES))) < INSURANCE_P[None, :]
    person_i, kind = np.nonzero(insured)
    person = people[person_i]
    state = rng.choice(2, size=len(people), p=[0.97, 0.03])[person_i]
    return Rows(
        world,
        rng,
        len(person),
        person * 4 + kind,
        person=person,
        enterprise=p.employer[person],
        values={
            "险种": text.take(text.strings(INSURANCES), kind),
            "缴费月份": text.months(np.full(len(person), _month(world, 1))),
            "缴费基数": np.round(p.wage[person].astype(np.float64), 2),
            "参保状态": text.take(text.strings(["参保缴费", "暂停缴费"]), state),
        },
    )


# --- 公安 --------------------
def _population(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    return Rows(world, rng, len(units), units, person=units)


def _deregistration_events(world: World) -> dict[str, np.ndarray]:
    rng = stream(world.seed, "deregistration-events")
    d, m = world.deaths, world.migrations
    dead = np.flatnonzero(d.deregistered)
    delay = rng.integers(1, 61, len(dead)).astype("timedelta64[D]")
    dereg = np.minimum(d.date[dead] + delay, world.batch - DAY)
    person = np.concatenate([d.person[dead], m.person])
    date = np.concatenate([dereg, m.date]).astype("datetime64[D]")
    reason = np.concatenate([np.zeros(len(dead), np.int64), m.reason.astype(np.int64) + 1])
    death = np.concatenate([d.date[dead], np.full(len(m.person), np.datetime64("NaT", "D"))])
    conflict = np.concatenate([d.conflict[dead], np.zeros(len(m.person), bool)])
    order = np.lexsort((person, date))
    return {
        "person": person[order],
        "date": date[order],
        "reason": reason[order],
        "death": death[order],
        "conflict": conflict[order],
    }


def _deregistration(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    ev = _cached(world, "deregistration", lambda: _deregistration_events(world))
    return Rows(
        world,
        rng,
        len(units),
        units,
        person=ev["person"][units],
        protected=ev["conflict"][units],
        values={
            "注销日期": ev["date"][units],
            "注销原因": text.take(text.strings(["死亡", *MIGRATION_REASONS]), ev["reason"][units]),
            "死亡日期": ev["death"][units],
        },
    )


# --- 民政 --------------------
def _marriage(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    m = world.marriages
    county = world.hangzhou.codes[m.county[units]]
    date = m.date[units]
    divorce = m.divorce[units]
    offices = text.strings(world.hangzhou.names(world.batch_year, province=False))
    return Rows(
        world,
        rng,
        len(units),
        units,
        values={
            "登记证号": text.join(
                text.take(text.strings(["J", "L"]), divorce.astype(np.int64)),
                text.ints(county, 6),
                "-",
                text.ints(date.astype("datetime64[Y]").astype(np.int64) + 1970),
                "-",
                text.ints(units + 1, 6),
            ),
            "男方身份证号": world.person_ids(m.man[units]),
            "女方身份证号": world.person_ids(m.woman[units]),
            "登记类型": text.take(text.strings(["结婚", "离婚"]), divorce.astype(np.int64)),
            "登记日期": date,
            "登记机关": text.join(text.take(offices, m.county[units]), "民政局"),
        },
    )


# --- 卫健 --------------------
def _death_certificate_events(world: World) -> dict[str, np.ndarray]:
    d = world.deaths
    kept = np.flatnonzero(d.certified)
    order = np.lexsort((d.person[kept], d.certificate_date[kept]))
    kept = kept[order]
    return {
        "person": d.person[kept],
        "date": d.certificate_date[kept],
        "conflict": d.conflict[kept],
    }


def _death_certificates(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    ev = _cached(world, "death-certificates", lambda: _death_certificate_events(world))
    places = ["医疗卫生机构", "家中", "养老服务机构", "来院途中", "其他场所"]
    return Rows(
        world,
        rng,
        len(units),
        units,
        person=ev["person"][units],
        protected=ev["conflict"][units],
        values={
            "死亡日期": ev["date"][units],
            "死亡地点": text.pick(places, rng, len(units), [60, 30, 5, 3, 2]),
        },
    )


SUBJECTS = [
    "内科", "外科", "妇产科", "儿科", "口腔科", "眼科", "耳鼻咽喉科", "皮肤科", "中医科",
    "医学检验科", "医学影像科", "预防保健科",
]  # fmt: skip
CLINIC_KINDS = ["门诊部", "诊所", "口腔门诊部", "中医诊所", "医院"]
QUALIFICATIONS = [
    "建筑工程施工总承包三级", "建筑工程施工总承包二级", "市政公用工程施工总承包三级",
    "建筑装修装饰工程专业承包二级", "公路工程施工总承包三级", "施工劳务不分等级",
]  # fmt: skip


def _licence_set(world: World, kind: str, valid: float) -> dict[str, np.ndarray]:
    """Licences of one kind for the enterprises in that trade, shared by two extracts."""
    rng = stream(world.seed, f"{kind}-licences")
    holder = world.enterprises_of_kind(kind)
    start = np.maximum(
        world.enterprises.established[holder] + 60 * DAY, world.batch - years(valid + 1)
    )
    issued = _between(rng, start, world.batch - DAY)
    return {
        "holder": holder,
        "issued": issued,
        "expires": expiry(issued, np.full(len(holder), valid)),
        "grade": rng.integers(0, 1_000_000, len(holder)),
    }


def _construction_numbers(world: World, lic: dict[str, np.ndarray], idx: np.ndarray) -> pa.Array:
    return text.join("D", text.ints(lic["grade"][idx] % 3 + 1), "33", text.ints(idx + 1, 6))


def _medical_numbers(world: World, lic: dict[str, np.ndarray], idx: np.ndarray) -> pa.Array:
    region = world.enterprise_region_codes(lic["holder"][idx])
    return text.join("PDY", text.ints(idx + 1, 5), text.ints(region, 6), "11A1001")


def _clinic_names(world: World, lic: dict[str, np.ndarray], idx: np.ndarray) -> pa.Array:
    e = world.enterprises
    holder = lic["holder"][idx]
    cities = text.strings(
        [r.city.removesuffix("市") or "浙江" for r in world.enterprise_regions.regions]
    )
    return text.join(
        text.take(cities, e.region[holder]),
        text.take(world.pools.company_stems, e.stem[holder]),
        text.take(text.strings(CLINIC_KINDS), lic["grade"][idx] % len(CLINIC_KINDS)),
    )


def _construction(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    lic = _cached(world, "construction", lambda: _licence_set(world, "construction", 5))
    return Rows(
        world,
        rng,
        len(units),
        units,
        enterprise=lic["holder"][units],
        values={
            "证书编号": _construction_numbers(world, lic, units),
            "资质类别及等级": text.take(
                text.strings(QUALIFICATIONS), lic["grade"][units] % len(QUALIFICATIONS)
            ),
            "发证日期": lic["issued"][units],
            "有效期至": lic["expires"][units],
        },
    )


def _medical(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    lic = _cached(world, "medical", lambda: _licence_set(world, "medical", 5))
    subjects = [
        "；".join(
            sorted(
                rng.choice(SUBJECTS, size=int(rng.integers(1, 5)), replace=False),
                key=SUBJECTS.index,
            )
        )
        for _ in range(min(len(units), 200))
    ]
    return Rows(
        world,
        rng,
        len(units),
        units,
        enterprise=lic["holder"][units],
        values={
            "许可证编号": _medical_numbers(world, lic, units),
            "机构名称": _clinic_names(world, lic, units),
            "诊疗科目": text.take(
                text.strings(subjects or [""]), rng.integers(0, max(1, len(subjects)), len(units))
            ),
            "有效期至": lic["expires"][units],
        },
    )


# --- 数据局: 电子证照库 --------------------
# (证照类型, type code in 证照标识, issuing department)
LICENCE_TYPES = [
    ("营业执照", "001", "scjg"),
    ("食品经营许可证", "002", "scjg"),
    ("建筑业企业资质证书", "003", "zj"),
    ("医疗机构执业许可证", "004", "wj"),
    ("机动车驾驶证", "005", "ga"),
]


def _drivers(world: World) -> dict[str, np.ndarray]:
    rng = stream(world.seed, "driving-licences")
    ages = world.ages()
    dead = np.zeros(world.persons.n, bool)
    dead[world.deaths.person] = True
    eligible = np.flatnonzero((ages >= 18) & (ages <= 75) & ~dead)
    holder = np.sort(eligible[rng.random(len(eligible)) < 0.35])
    issued = _between(rng, world.persons.birth[holder] + years(18), world.batch - DAY)
    valid = rng.choice([6.0, 10.0, 0.0], size=len(holder), p=[0.3, 0.5, 0.2])
    return {"holder": holder, "issued": issued, "expires": expiry(issued, valid)}


def _licence_segments(world: World) -> list[tuple[int, int]]:
    """Unit ranges of the licence library: business licences, then each other kind."""
    counts = [
        world.enterprises.n,
        len(_cached(world, "food", lambda: _licence_set(world, "food", 5))["holder"]),
        len(
            _cached(world, "construction", lambda: _licence_set(world, "construction", 5))["holder"]
        ),
        len(_cached(world, "medical", lambda: _licence_set(world, "medical", 5))["holder"]),
        len(_cached(world, "drivers", lambda: _drivers(world))["holder"]),
    ]
    bounds = np.cumsum([0, *counts])
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def _licence_units(world: World) -> int:
    return _licence_segments(world)[-1][1]


_REVOKED = {2: "吊销", 3: "注销", 4: "注销"}


def _e_licences(world: World, units: np.ndarray, rng: np.random.Generator) -> Rows:
    e = world.enterprises
    parts: dict[str, list[pa.Array]] = {
        name: []
        for name in ("证照类型", "持证主体代码", "持证主体名称", "证照编号", "发证机关", "证照状态")
    }
    issued_all: list[np.ndarray] = []
    expires_all: list[np.ndarray] = []
    for kind, (lo, hi) in enumerate(_licence_segments(world)):
        sel = units[(units >= lo) & (units < hi)] - lo
        if len(sel) == 0:
            continue
        name, _code, _dept = LICENCE_TYPES[kind]
        if kind == 0:
            holder = sel
            codes = world.enterprise_codes(holder)
            issued = e.established[holder]
            expires = np.where(
                rng.random(len(sel)) < 0.85,
                np.datetime64("NaT"),
                e.established[holder] + years(20) - DAY,
            ).astype("datetime64[D]")
            status = text.take(
                text.strings(["有效", "吊销", "注销"]),
                np.select([e.status[holder] == 2, np.isin(e.status[holder], (3, 4))], [1, 2], 0),
            )
            numbers, holder_names = codes, world.enterprise_names(holder)
            authority = _authority(world, holder, "市场监督管理局")
        elif kind == 4:
            lic = world.cache["drivers"]
            person = lic["holder"][sel]
            codes = world.person_ids(person)
            issued, expires = lic["issued"][sel], lic["expires"][sel]
            numbers, holder_names = codes, world.person_names(person)
            authority = text.constant("浙江省杭州市公安局交通警察支队", len(sel))
            status = None
        else:
            key = ("food", "construction", "medical")[kind - 1]
            lic = world.cache[key]
            holder = lic["holder"][sel]
            codes = world.enterprise_codes(holder)
            issued, expires = lic["issued"][sel], lic["expires"][sel]
            if kind == 1:
                numbers = text.join(
                    "JY",
                    text.ints(lic["grade"][sel] % 2 + 1),
                    text.ints(world.enterprise_region_codes(holder), 6),
                    text.ints(sel + 1, 6),
                    text.ints(lic["grade"][sel] % 10),
                )
                holder_names = world.enterprise_names(holder)
                authority = _authority(world, holder, "市场监督管理局")
            elif kind == 2:
                numbers = _construction_numbers(world, lic, sel)
                holder_names = world.enterprise_names(holder)
                authority = text.constant("杭州市住房和城乡建设局", len(sel))
            else:
                numbers = _medical_numbers(world, lic, sel)
                holder_names = _clinic_names(world, lic, sel)
                authority = text.constant("杭州市卫生健康委员会", len(sel))
            status = None
        if status is None:
            expired = ~np.isnat(expires) & (expires < world.batch)
            status = text.take(text.strings(["有效", "过期"]), expired.astype(np.int64))
        parts["证照类型"].append(text.constant(name, len(sel)))
        parts["持证主体代码"].append(codes)
        parts["持证主体名称"].append(holder_names)
        parts["证照编号"].append(numbers)
        parts["发证机关"].append(authority)
        parts["证照状态"].append(status)
        issued_all.append(issued)
        expires_all.append(expires)
    ids = text.join(
        "1.2.156.3005.2.",
        text.take(text.strings([c for _n, c, _d in LICENCE_TYPES]), _segment_of(world, units)),
        ".",
        text.take(
            text.strings([DEPT[d] for _n, _c, d in LICENCE_TYPES]), _segment_of(world, units)
        ),
        ".",
        text.ints(units + 1, 9),
    )
    values: dict[str, pa.Array | np.ndarray] = {k: pa.concat_arrays(v) for k, v in parts.items()}
    values["证照标识"] = ids
    values["发证日期"] = np.concatenate(issued_all)
    values["有效期至"] = np.concatenate(expires_all)
    return Rows(world, rng, len(units), units, values=values)


def _segment_of(world: World, units: np.ndarray) -> np.ndarray:
    bounds = np.array([hi for _lo, hi in _licence_segments(world)])
    return np.searchsorted(bounds, units, side="right")


# --- anything else the catalogue mounts --------------------
def _generic_plan(resource: DemoResource) -> Plan:
    """Resources without a plan of their own: one row for every tenth person or enterprise."""
    names = [parse_item(spec).name for spec in resource.items]
    about_people = any(n.endswith(("身份证号", "驾驶证号", "姓名")) for n in names)

    def units(world: World) -> int:
        return max(1, (world.persons.n if about_people else world.enterprises.n) // 10)

    def build(world: World, idx: np.ndarray, rng: np.random.Generator) -> Rows:
        if about_people:
            return Rows(world, rng, len(idx), idx, person=idx * 10)
        return Rows(world, rng, len(idx), idx, enterprise=idx * 10)

    return Plan(units, build)


PLANS: dict[str, Plan] = {
    "scjg_enterprise_registration": Plan(lambda w: w.enterprises.n, _registration),
    "scjg_penalties": Plan(
        lambda w: len(_cached(w, "penalties", lambda: _penalty_events(w))["firm"]), _penalties
    ),
    "scjg_abnormal": Plan(
        lambda w: len(_cached(w, "abnormal", lambda: _abnormal_events(w))["firm"]), _abnormal
    ),
    "sw_tax_credit": Plan(lambda w: w.enterprises.n, _tax_credit, 2.5),
    "sw_tax_paid": Plan(lambda w: w.enterprises.n, _tax_paid, 2.6),
    "rs_enterprise_insurance": Plan(lambda w: w.enterprises.n, _enterprise_insurance, 0.85),
    "rs_person_contributions": Plan(lambda w: w.persons.n, _contributions, 1.3),
    "ga_population": Plan(lambda w: w.persons.n, _population),
    "ga_deregistration": Plan(
        lambda w: len(_cached(w, "deregistration", lambda: _deregistration_events(w))["person"]),
        _deregistration,
    ),
    "mz_marriage": Plan(lambda w: len(w.marriages.man), _marriage),
    "wj_death_certificates": Plan(
        lambda w: len(
            _cached(w, "death-certificates", lambda: _death_certificate_events(w))["person"]
        ),
        _death_certificates,
    ),
    "sjj_e_licences": Plan(_licence_units, _e_licences),
    "zj_construction_licences": Plan(
        lambda w: len(
            _cached(w, "construction", lambda: _licence_set(w, "construction", 5))["holder"]
        ),
        _construction,
    ),
    "wj_medical_licences": Plan(
        lambda w: len(_cached(w, "medical", lambda: _licence_set(w, "medical", 5))["holder"]),
        _medical,
    ),
}


def plan_for(resource: DemoResource) -> Plan:
    return PLANS.get(resource.mount or "") or _generic_plan(resource)
