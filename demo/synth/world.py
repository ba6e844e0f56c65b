"""The two entity pools every extract draws from: persons and enterprises, plus their events.

Building them first is what makes the extracts agree with each other the way real ones do:
a contribution names a person who is in the population file and an employer that is
registered, 参保人数 is the number of people whose contributions name that employer, a
marriage pairs a living man and woman of legal age, a death certificate belongs to a person who
is no longer employed. Everything is held as compact numpy columns (indices into pools, dates,
small integers), about 30 bytes a person, and turned into strings chunk by chunk.

The planted disagreements between sources (企业名称 in the tax extract, 死亡日期 between the
police and the health commission) are decided here too, so every table sees the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from demo.synth import identifiers, regions
from demo.synth.pools import Pools, build_pools, stream
from demo.synth.text import join, strings, take

DAY = np.timedelta64(1, "D")


def days_between(later: Any, earlier: Any) -> np.ndarray:
    """Whole days from ``earlier`` to ``later`` (arrays or scalars of datetime64[D])."""
    return np.asarray((later - earlier).astype("timedelta64[D]").astype(np.int64))


def age_in_years(batch: np.datetime64, birth: np.ndarray) -> np.ndarray:
    return (days_between(batch, birth) / 365.25).astype(np.int64)


def years(n: float) -> np.timedelta64:
    return np.timedelta64(round(n * 365.25), "D")


@dataclass(frozen=True)
class Industry:
    """A GB/T 4754-2017 class, the word it puts in company names, and which licences follow."""

    code: str
    word: str
    weight: float
    kind: str = "general"  # general | construction | medical | food


INDUSTRIES = (
    Industry("6513", "科技", 12),
    Industry("6420", "网络科技", 6),
    Industry("5181", "贸易", 12),
    Industry("5211", "商贸", 8),
    Industry("6210", "餐饮管理", 7, "food"),
    Industry("5261", "食品", 4, "food"),
    Industry("4710", "建设", 4, "construction"),
    Industry("4812", "路桥工程", 1.5, "construction"),
    Industry("5011", "装饰工程", 3, "construction"),
    Industry("7212", "投资管理", 4),
    Industry("7251", "文化传媒", 5),
    Industry("8425", "医疗", 2, "medical"),
    Industry("1810", "服饰", 4),
    Industry("3311", "机械", 3),
    Industry("5431", "物流", 4),
    Industry("7020", "物业服务", 3),
    Industry("3984", "电子", 3),
    Industry("7439", "检测技术", 1.5),
)
COMPANY_SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司")
COMPANY_SUFFIX_P = (0.75, 0.2, 0.05)
STATUSES = ("存续", "在业", "吊销", "注销", "迁出")
STATUS_P = (0.80, 0.08, 0.04, 0.06, 0.02)
ACTIVE_STATUSES = (0, 1)
ETHNIC_GROUPS = ("汉族", "畲族", "回族", "土家族", "苗族", "壮族", "满族", "布依族", "彝族", "侗族")
ETHNIC_P = (0.955, 0.008, 0.006, 0.008, 0.007, 0.004, 0.004, 0.003, 0.003, 0.002)
CAPITALS = np.array([3, 5, 10, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000], dtype=np.float64)
CAPITAL_P = np.array([3, 6, 14, 8, 14, 20, 8, 6, 8, 7, 3, 3], dtype=np.float64)

# Relative number of people per year of age (a rough 2020s Chinese pyramid), by decade.
_AGE_WEIGHTS = np.repeat([0.8, 1.0, 1.1, 1.5, 1.4, 1.6, 1.2, 0.7, 0.3, 0.06], 10)

EMPLOYMENT_RATE = 0.68
DEATH_RATE = 0.02
DEREGISTERED_SHARE = 0.85  # deaths the police have already deregistered
CERTIFIED_SHARE = 0.9  # deaths with a medical certificate on file
CONFLICT_RATE = 0.03  # share of overlapping records planted with a disagreement
MARRIED_SHARE = 0.6
DIVORCE_SHARE = 0.12
MIGRATION_RATE = 0.005  # 户籍迁出 and other non-death deregistrations


@dataclass
class Persons:
    """One row per person; ``home`` indexes the 杭州 county table, ``origin`` the birth regions."""

    origin: np.ndarray  # int32 index into regions.birth_regions()
    birth: np.ndarray  # datetime64[D]
    seq: np.ndarray  # int16, odd for men
    surname: np.ndarray
    given: np.ndarray  # index into the male or female given-name pool
    ethnic: np.ndarray
    home: np.ndarray  # int16 index into regions.hangzhou()
    road: np.ndarray
    estate: np.ndarray
    house: np.ndarray  # int32 that encodes door, building, unit and room numbers
    employer: np.ndarray  # int32 enterprise index, -1 when not employed
    wage: np.ndarray  # float32 contribution base (缴费基数), yuan

    @property
    def n(self) -> int:
        return len(self.birth)

    @property
    def male(self) -> np.ndarray:
        return self.seq % 2 == 1


@dataclass
class Enterprises:
    uscc: np.ndarray  # (n, 18) uint8 ASCII
    region: np.ndarray  # int16 index into regions.enterprise_regions()
    established: np.ndarray
    industry: np.ndarray
    stem: np.ndarray
    suffix: np.ndarray
    legal_rep: np.ndarray  # person index
    capital: np.ndarray  # float64, 万元
    status: np.ndarray
    road: np.ndarray
    house: np.ndarray
    headcount: np.ndarray  # int32, people whose contributions name this employer

    @property
    def n(self) -> int:
        return len(self.established)

    @property
    def active(self) -> np.ndarray:
        return np.isin(self.status, ACTIVE_STATUSES)


@dataclass
class Deaths:
    person: np.ndarray
    date: np.ndarray  # the date the police record (户籍注销信息.死亡日期)
    deregistered: np.ndarray  # bool
    certified: np.ndarray  # bool
    certificate_date: np.ndarray  # 死亡医学证明信息.死亡日期: equal except planted conflicts
    conflict: np.ndarray  # bool


@dataclass
class Marriages:
    man: np.ndarray
    woman: np.ndarray
    date: np.ndarray
    divorce: np.ndarray  # bool: a 离婚 record of an earlier marriage in the same file
    county: np.ndarray  # index into regions.hangzhou()


@dataclass
class Migrations:
    person: np.ndarray
    date: np.ndarray
    reason: np.ndarray  # index into MIGRATION_REASONS


MIGRATION_REASONS = ("迁出", "出国（境）定居", "服现役")
MIGRATION_REASON_P = (0.85, 0.1, 0.05)


@dataclass
class World:
    """Everything shared between tables for one (seed, scale, batch date)."""

    seed: int
    batch: np.datetime64
    pools: Pools
    persons: Persons
    enterprises: Enterprises
    deaths: Deaths
    marriages: Marriages
    migrations: Migrations
    name_conflicts: dict[int, str]  # enterprise index -> 企业名称 the tax office holds
    cache: dict[str, Any] = field(default_factory=dict)  # event lists tables share

    @property
    def batch_year(self) -> int:
        return int(str(self.batch)[:4])

    @cached_property
    def hangzhou(self) -> regions.RegionTable:
        return regions.hangzhou(self.batch_year)

    @cached_property
    def enterprise_regions(self) -> regions.RegionTable:
        return regions.enterprise_regions(self.batch_year)

    @cached_property
    def _home_names(self) -> pa.Array:
        return strings(self.hangzhou.names(self.batch_year))

    @cached_property
    def _enterprise_region_names(self) -> pa.Array:
        return strings(self.enterprise_regions.names(self.batch_year))

    @cached_property
    def _enterprise_cities(self) -> pa.Array:
        """The city word companies put first (杭州, 宁波...)."""
        return strings(
            [r.city.removesuffix("市") or "浙江" for r in self.enterprise_regions.regions]
        )

    # --- persons, materialised for a chunk of indices -------------------------------------
    def person_ids(self, idx: np.ndarray) -> pa.Array:
        p = self.persons
        codes = regions.birth_regions().codes[p.origin[idx]]
        return identifiers.to_arrow(identifiers.ric_matrix(codes, p.birth[idx], p.seq[idx]))

    def person_names(self, idx: np.ndarray) -> pa.Array:
        p = self.persons
        male = p.male[idx]
        given = take(self.pools.female_given, p.given[idx])
        if male.any():
            men = take(self.pools.male_given, p.given[idx])
            given = pc.if_else(pa.array(male), men, given)
        return join(take(self.pools.surnames, p.surname[idx]), given)

    def person_sex(self, idx: np.ndarray) -> pa.Array:
        return take(strings(["女", "男"]), self.persons.male[idx].astype(np.int64))

    def person_home_codes(self, idx: np.ndarray) -> np.ndarray:
        return self.hangzhou.codes[self.persons.home[idx]]

    def person_addresses(self, idx: np.ndarray) -> pa.Array:
        p = self.persons
        h = p.house[idx].astype(np.int64)
        return join(
            take(self._home_names, p.home[idx]),
            take(self.pools.roads, p.road[idx]),
            _num(h % 999 + 1),
            "号",
            take(self.pools.estates, p.estate[idx]),
            _num(h // 999 % 30 + 1),
            "幢",
            _num(h // 29970 % 4 + 1),
            "单元",
            _num((h // 119880 % 18 + 1) * 100 + h // 2157840 % 4 + 1),
            "室",
        )

    def person_ethnic(self, idx: np.ndarray) -> pa.Array:
        return take(strings(list(ETHNIC_GROUPS)), self.persons.ethnic[idx])

    def ages(self, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        return age_in_years(self.batch, self.persons.birth[idx])

    # --- enterprises ------------------------------------------------------------------------
    def enterprise_codes(self, idx: np.ndarray) -> pa.Array:
        return identifiers.to_arrow(self.enterprises.uscc[idx])

    def enterprise_names(self, idx: np.ndarray) -> pa.Array:
        e = self.enterprises
        return join(
            take(self._enterprise_cities, e.region[idx]),
            take(self.pools.company_stems, e.stem[idx]),
            take(strings([i.word for i in INDUSTRIES]), e.industry[idx]),
            take(strings(list(COMPANY_SUFFIXES)), e.suffix[idx]),
        )

    def enterprise_region_codes(self, idx: np.ndarray) -> np.ndarray:
        return self.enterprise_regions.codes[self.enterprises.region[idx]]

    def enterprise_region_names(self, idx: np.ndarray) -> pa.Array:
        return take(self._enterprise_region_names, self.enterprises.region[idx])

    def enterprise_addresses(self, idx: np.ndarray) -> pa.Array:
        e = self.enterprises
        h = e.house[idx].astype(np.int64)
        floor = h // 119880 % 18 + 1
        return join(
            take(self._enterprise_region_names, e.region[idx]),
            take(self.pools.roads, e.road[idx]),
            _num(h % 999 + 1),
            "号",
            _num(h // 999 % 30 + 1),
            "幢",
            _num(floor),
            "层",
            _num(floor * 100 + h // 2157840 % 12 + 1),
            "室",
        )

    def enterprises_of_kind(self, kind: str) -> np.ndarray:
        kinds = np.array([i.kind == kind for i in INDUSTRIES])
        return np.flatnonzero(kinds[self.enterprises.industry] & self.enterprises.active)


def _num(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _people(rng: np.random.Generator, n: int, batch: np.datetime64, pools: Pools) -> Persons:
    ages = rng.choice(len(_AGE_WEIGHTS), size=n, p=_AGE_WEIGHTS / _AGE_WEIGHTS.sum())
    offset = np.rint((ages + rng.random(n)) * 365.25).astype(np.int64)
    birth = (batch - offset.astype("timedelta64[D]") - DAY).astype("datetime64[D]")
    male = rng.random(n) < 0.51
    birth_years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    br = regions.birth_regions()
    origin = br.sample(rng, birth_years)
    seq = (rng.integers(0, 499, size=n) * 2 + np.where(male, 1, 2)).astype(np.int16)
    # Redraw the sequence number of the few people who would share an ID number.
    base = identifiers.unique_int_key(br.codes[origin], birth, np.zeros(n, dtype=np.int16))
    while True:
        key = base + seq
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        clash = order[1:][ordered[1:] == ordered[:-1]]
        if len(clash) == 0:
            break
        seq[clash] = rng.integers(0, 499, size=len(clash)) * 2 + np.where(male[clash], 1, 2)
    hz = regions.hangzhou(int(str(batch)[:4]))
    home = hz.sample(rng, n)
    # People born in a 杭州 county that still exists mostly still live there.
    position = {int(r.code): i for i, r in enumerate(hz.regions)}
    born = np.array([position.get(int(c), -1) for c in br.codes], dtype=np.int64)[origin]
    stay = (born >= 0) & (rng.random(n) < 0.8)
    home[stay] = born[stay]
    given_pool = np.where(male, len(pools.male_given), len(pools.female_given))
    return Persons(
        origin=origin,
        birth=birth,
        seq=seq,
        surname=rng.integers(0, len(pools.surnames), size=n, dtype=np.int32),
        given=(rng.random(n) * given_pool).astype(np.int32),
        ethnic=rng.choice(len(ETHNIC_GROUPS), size=n, p=ETHNIC_P).astype(np.int8),
        home=home,
        road=rng.integers(0, len(pools.roads), size=n, dtype=np.int32),
        estate=rng.integers(0, len(pools.estates), size=n, dtype=np.int32),
        house=rng.integers(0, 2**31 - 1, size=n, dtype=np.int32),
        employer=np.full(n, -1, dtype=np.int32),
        wage=np.clip(rng.lognormal(np.log(7500), 0.45, size=n), 4462, 24930).astype(np.float32),
    )


def _companies(
    rng: np.random.Generator, n: int, batch: np.datetime64, pools: Pools, persons: Persons
) -> Enterprises:
    table = regions.enterprise_regions(int(str(batch)[:4]))
    region = table.sample(rng, n)
    age_days = np.minimum(rng.exponential(8.0, size=n), 33.5) * 365.25
    established = (batch - np.rint(age_days + 2).astype("timedelta64[D]")).astype("datetime64[D]")
    modern = established >= np.datetime64("2016-01-01")
    org = identifiers.org_codes(rng, n, modern)
    uscc = identifiers.uscc_matrix(b"91", table.codes[region], org)
    while True:  # organisation codes are random: make the (rare) repeats unique
        _v, first = np.unique(uscc.view(f"S{uscc.shape[1]}").ravel(), return_index=True)
        clash = np.ones(n, dtype=bool)
        clash[first] = False
        if not clash.any():
            break
        org[clash] = identifiers.org_codes(rng, int(clash.sum()), modern[clash])
        uscc[clash] = identifiers.uscc_matrix(b"91", table.codes[region[clash]], org[clash])
    ages = age_in_years(batch, persons.birth)
    adults = np.flatnonzero((ages >= 22) & (ages <= 75))
    if len(adults) == 0:
        adults = np.arange(persons.n)
    weights = np.array([i.weight for i in INDUSTRIES])
    round_capital = CAPITALS[rng.choice(len(CAPITALS), size=n, p=CAPITAL_P / CAPITAL_P.sum())]
    odd_capital = np.round(rng.lognormal(np.log(150), 1.3, size=n), 4)
    return Enterprises(
        uscc=uscc,
        region=region,
        established=established,
        industry=rng.choice(len(INDUSTRIES), size=n, p=weights / weights.sum()).astype(np.int16),
        stem=rng.integers(0, len(pools.company_stems), size=n, dtype=np.int32),
        suffix=rng.choice(len(COMPANY_SUFFIXES), size=n, p=COMPANY_SUFFIX_P).astype(np.int8),
        legal_rep=rng.choice(adults, size=n).astype(np.int32),
        capital=np.where(rng.random(n) < 0.8, round_capital, odd_capital),
        status=rng.choice(len(STATUSES), size=n, p=STATUS_P).astype(np.int8),
        road=rng.integers(0, len(pools.roads), size=n, dtype=np.int32),
        house=rng.integers(0, 2**31 - 1, size=n, dtype=np.int32),
        headcount=np.zeros(n, dtype=np.int32),
    )


def _employ(
    rng: np.random.Generator, world_persons: Persons, firms: Enterprises, ages: np.ndarray
) -> None:
    """Working-age people get an employer; bigger firms are rarer (log-normal sizes)."""
    active = np.flatnonzero(firms.active)
    if len(active) == 0:
        return
    candidates = np.flatnonzero((ages >= 18) & (ages <= 60))
    employed = candidates[rng.random(len(candidates)) < EMPLOYMENT_RATE]
    size = rng.lognormal(0.0, 1.6, size=len(active))
    employer = rng.choice(active, size=len(employed), p=size / size.sum())
    world_persons.employer[employed] = employer
    firms.headcount[:] = np.bincount(employer, minlength=firms.n)


def _deaths(
    rng: np.random.Generator, persons: Persons, ages: np.ndarray, batch: np.datetime64
) -> Deaths:
    candidates = np.flatnonzero((ages >= 55) & (persons.employer < 0))
    count = min(len(candidates), max(3, round(DEATH_RATE * persons.n)))
    weights = np.exp((ages[candidates] - 60) / 10.0)
    person = np.sort(rng.choice(candidates, size=count, replace=False, p=weights / weights.sum()))
    earliest = np.maximum(persons.birth[person] + years(55), batch - years(5))
    span = days_between(batch - 2 * DAY, earliest)
    date = earliest + (rng.random(count) * np.maximum(span, 0)).astype("timedelta64[D]")
    deregistered = rng.random(count) < DEREGISTERED_SHARE
    certified = rng.random(count) < CERTIFIED_SHARE
    both = np.flatnonzero(deregistered & certified)
    conflict = np.zeros(count, dtype=bool)
    if len(both):
        planted = rng.choice(both, size=max(1, round(CONFLICT_RATE * len(both))), replace=False)
        conflict[planted] = True
    shift = rng.integers(1, 4, size=count).astype("timedelta64[D]")
    shifted = np.where(date + shift < batch, date + shift, date - shift)
    certificate_date = np.where(conflict, shifted, date).astype("datetime64[D]")
    return Deaths(person, date, deregistered, certified, certificate_date, conflict)


def _marriages(
    rng: np.random.Generator,
    persons: Persons,
    ages: np.ndarray,
    dead: np.ndarray,
    batch: np.datetime64,
) -> Marriages:
    alive = ~dead
    men = np.flatnonzero(persons.male & alive & (ages >= 22))
    women = np.flatnonzero(~persons.male & alive & (ages >= 20))
    k = int(MARRIED_SHARE * min(len(men), len(women)))
    men = rng.choice(men, size=k, replace=False)
    women = rng.choice(women, size=k, replace=False)
    # Spouses are close in age: pair the i-th oldest man with the i-th oldest woman, jittered.
    men = men[np.argsort(persons.birth[men].astype(np.int64) + rng.normal(0, 700, k))]
    women = women[np.argsort(persons.birth[women].astype(np.int64) + rng.normal(0, 700, k))]
    # Most people marry within ten years of the legal age; the registry's electronic records
    # (including back-filled ones) start in 1985, so older marriages are not in the extract.
    lower = np.maximum(persons.birth[men] + years(22), persons.birth[women] + years(20))
    date = (lower + (rng.gamma(2.0, 2.0, k) * 365.25).astype("timedelta64[D]")).astype(
        "datetime64[D]"
    )
    keep = (date >= np.datetime64("1985-01-01")) & (date < batch - DAY)
    men, women, date = men[keep], women[keep], date[keep]
    left = days_between(batch - DAY, date)
    divorcing = np.flatnonzero((rng.random(len(men)) < DIVORCE_SHARE) & (left > 60))
    divorce_date = date[divorcing] + (
        30 + rng.random(len(divorcing)) * (left[divorcing] - 30)
    ).astype("timedelta64[D]")
    all_men = np.concatenate([men, men[divorcing]])
    all_women = np.concatenate([women, women[divorcing]])
    all_dates = np.concatenate([date, divorce_date]).astype("datetime64[D]")
    divorce = np.concatenate([np.zeros(len(men), bool), np.ones(len(divorcing), bool)])
    order = np.lexsort((all_men, all_dates))  # the registry's own order: by date
    return Marriages(
        man=all_men[order],
        woman=all_women[order],
        date=all_dates[order],
        divorce=divorce[order],
        county=persons.home[all_men[order]],
    )


def _migrations(
    rng: np.random.Generator, persons: Persons, dead: np.ndarray, batch: np.datetime64
) -> Migrations:
    candidates = np.flatnonzero(~dead & (persons.employer < 0))
    count = min(len(candidates), round(MIGRATION_RATE * persons.n))
    person = np.sort(rng.choice(candidates, size=count, replace=False))
    date = batch - (1 + rng.integers(0, 3 * 365, size=count)).astype("timedelta64[D]")
    reason = rng.choice(len(MIGRATION_REASONS), size=count, p=MIGRATION_REASON_P).astype(np.int8)
    return Migrations(person, date.astype("datetime64[D]"), reason)


def _name_variants(rng: np.random.Generator, world: World) -> dict[int, str]:
    """企业名称 as the tax office still holds it for a few enterprises (a former name, a suffix
    typed differently, the city left out): a real 一数一源 disagreement with the registration."""
    e = world.enterprises
    # Only enterprises with tax months on file can disagree with the tax office.
    active = np.flatnonzero(e.active & (e.established < world.batch - years(0.5)))
    if len(active) == 0:
        return {}
    chosen = np.sort(
        rng.choice(active, size=max(1, round(CONFLICT_RATE * len(active))), replace=False)
    )
    names = world.enterprise_names(chosen).to_pylist()
    stems = world.pools.company_stems
    out: dict[int, str] = {}
    for i, name in zip(chosen.tolist(), names, strict=True):
        how = int(rng.integers(3))
        if how == 0 and name.endswith("有限责任公司"):
            variant = name.removesuffix("有限责任公司") + "有限公司"
        elif how == 0 and name.endswith("有限公司") and not name.endswith("股份有限公司"):
            variant = name.removesuffix("有限公司") + "有限责任公司"
        elif how == 1:
            stem = stems[int(world.enterprises.stem[i])].as_py()
            other = stems[int(rng.integers(len(stems)))].as_py()
            variant = name.replace(stem, other, 1) if other != stem else name[2:]
        else:
            variant = name[2:]  # without the city word
        out[i] = variant if variant != name else name[2:]
    return out


def build_world(*, seed: int, persons: int, batch: np.datetime64) -> World:
    """Persons first (``persons`` of them), then max(100, persons // 10) enterprises, events."""
    batch = batch.astype("datetime64[D]")
    pools = build_pools(seed)
    people = _people(stream(seed, "persons"), persons, batch, pools)
    firms = _companies(stream(seed, "enterprises"), max(100, persons // 10), batch, pools, people)
    ages = age_in_years(batch, people.birth)
    _employ(stream(seed, "employment"), people, firms, ages)
    deaths = _deaths(stream(seed, "deaths"), people, ages, batch)
    dead = np.zeros(people.n, dtype=bool)
    dead[deaths.person] = True
    world = World(
        seed=seed,
        batch=batch,
        pools=pools,
        persons=people,
        enterprises=firms,
        deaths=deaths,
        marriages=_marriages(stream(seed, "marriages"), people, ages, dead, batch),
        migrations=_migrations(stream(seed, "migrations"), people, dead, batch),
        name_conflicts={},
    )
    world.name_conflicts = _name_variants(stream(seed, "name-conflicts"), world)
    return world
