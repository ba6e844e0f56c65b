"""GB/T 2260 行政区划代码 as python-stdnum knows them, with the years each code was in use.

stdnum checks an ID number's region against the birth year (a person born in 1990 cannot carry
a district created in 2001), so synthetic people draw their birth region from the codes that
existed in their birth year; that also gives older people the historical county codes real
ID numbers carry. Current codes (in use in the batch year) serve residence and enterprises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

FIRST_YEAR = 1920
LAST_YEAR = 2100

# Prefecture- and province-level rows, and placeholders that are not real counties.
_NOT_COUNTIES = {"市辖区", "县", "市区", "郊区", "矿区"}
_ENTRY = re.compile(r"^\[(\d*)-(\d*)\](.*)$")

# Provinces people move to Hangzhou from, roughly by how many do (安徽、江西、河南...).
ORIGIN_PROVINCES = {
    "34": 14,
    "36": 10,
    "41": 10,
    "51": 8,
    "52": 7,
    "42": 7,
    "43": 6,
    "32": 6,
    "37": 5,
    "35": 4,
    "45": 4,
    "62": 3,
    "31": 3,
    "11": 2,
    "44": 3,
}


@dataclass(frozen=True)
class Region:
    """One county-level code: its names over time and the years it was valid."""

    code: str
    province: str
    city: str
    entries: tuple[tuple[int, int, str], ...]  # (first year, last year, name)

    def valid_in(self, year: int) -> bool:
        return any(first <= year <= last for first, last, _name in self.entries)

    def name_in(self, year: int) -> str:
        return next(
            (name for first, last, name in self.entries if first <= year <= last),
            self.entries[-1][2],
        )

    def full_name(self, year: int, *, province: bool = True) -> str:
        """省 + 市 + 县 as addresses write it; without the province for authorities' names."""
        county = self.name_in(year)
        city = "" if self.city in _NOT_COUNTIES or self.city == self.province else self.city
        if not province and not city:
            return f"{self.province}{county}"  # 直辖市: 北京市东城区
        return f"{self.province if province else ''}{city}{county}"


def _parse_entries(text: str) -> tuple[tuple[int, int, str], ...]:
    out = []
    for part in text.split(","):
        match = _ENTRY.match(part)
        if match is None:
            out.append((FIRST_YEAR, LAST_YEAR, part))
        else:
            first, last, name = match.groups()
            out.append((int(first or FIRST_YEAR), int(last or LAST_YEAR), name))
    return tuple(out)


@cache
def all_regions() -> tuple[Region, ...]:
    """Every county-level code of stdnum's GB/T 2260 table (prefectures and 市辖区 left out)."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    province_code = ""
    provinces: dict[str, str] = {}
    cities: dict[str, str] = {}
    raw: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, _, rest = line.strip().partition(" ")
        value = rest.split("=", 1)[1].strip('"')
        if not line.startswith(" "):
            province_code = code
            provinces[code] = value
            continue
        full = province_code + code
        if full.endswith("00"):
            cities[full[:4]] = _parse_entries(value)[-1][2]
        raw.append((full, value))
    regions = []
    for code, value in raw:
        entries = _parse_entries(value)
        if code.endswith("00") or all(name in _NOT_COUNTIES for _f, _l, name in entries):
            continue
        regions.append(
            Region(
                code=code,
                province=provinces[code[:2]],
                city=cities.get(code[:4], ""),
                entries=entries,
            )
        )
    return tuple(regions)


def current(prefix: str, year: int) -> list[Region]:
    """County-level codes under ``prefix`` (e.g. 3301) that are in use in ``year``."""
    return [r for r in all_regions() if r.code.startswith(prefix) and r.valid_in(year)]


@dataclass(frozen=True)
class RegionTable:
    """A fixed list of regions addressed by index, with numpy views the generators need."""

    regions: tuple[Region, ...]
    weights: np.ndarray

    @property
    def codes(self) -> np.ndarray:
        return np.array([int(r.code) for r in self.regions], dtype=np.int64)

    def names(self, year: int, *, province: bool = True) -> list[str]:
        return [r.full_name(year, province=province) for r in self.regions]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(len(self.regions), size=size, p=self.weights).astype(np.int16)


def _table(regions: list[Region], weights: list[float] | None = None) -> RegionTable:
    w = np.asarray(weights if weights is not None else [1.0] * len(regions), dtype=np.float64)
    return RegionTable(tuple(regions), w / w.sum())


# Rough resident shares of Hangzhou's districts, so the big ones get more people.
_HANGZHOU_WEIGHT = {
    "330102": 1.3,
    "330105": 1.2,
    "330106": 1.2,
    "330108": 0.6,
    "330109": 2.0,
    "330110": 2.2,
    "330111": 0.8,
    "330112": 0.6,
    "330122": 0.4,
    "330127": 0.3,
    "330182": 0.4,
}


@cache
def hangzhou(year: int) -> RegionTable:
    """杭州市 counties in use in ``year``: where residents live and most enterprises register."""
    regions = current("3301", year)
    return _table(regions, [_HANGZHOU_WEIGHT.get(r.code, 0.5) for r in regions])


@cache
def enterprise_regions(year: int) -> RegionTable:
    """Mostly 杭州 (the demo city's registration authority), some elsewhere in 浙江."""
    local = current("3301", year)
    other = [r for r in current("33", year) if not r.code.startswith("3301")]
    weights = [_HANGZHOU_WEIGHT.get(r.code, 0.5) * 8 for r in local] + [0.15] * len(other)
    return _table(local + other, weights)


@dataclass(frozen=True)
class BirthRegions:
    """Birth-place codes grouped by origin, each valid for a given set of birth years."""

    regions: tuple[Region, ...]
    codes: np.ndarray  # int64 six-digit codes, by index
    valid: np.ndarray  # bool [region, year - FIRST_YEAR]
    groups: tuple[tuple[float, np.ndarray], ...]  # (share of people, region indices)

    def sample(self, rng: np.random.Generator, birth_years: np.ndarray) -> np.ndarray:
        """A region index per person, always one stdnum accepts for that birth year."""
        out = np.empty(len(birth_years), dtype=np.int32)
        shares = np.array([share for share, _idx in self.groups])
        group = rng.choice(len(self.groups), size=len(birth_years), p=shares / shares.sum())
        for g, (_share, members) in enumerate(self.groups):
            rows = np.flatnonzero(group == g)
            order = rows[np.argsort(birth_years[rows], kind="stable")]
            years, starts, counts = np.unique(
                birth_years[order], return_index=True, return_counts=True
            )
            for year, start, count in zip(years, starts, counts, strict=True):
                ok = members[self.valid[members, year - FIRST_YEAR]]
                out[order[start : start + count]] = rng.choice(ok, size=int(count))
        return out


@cache
def birth_regions() -> BirthRegions:
    """Half born in 杭州, a fifth elsewhere in 浙江, the rest in the usual origin provinces."""
    regions = [r for r in all_regions() if r.code[:2] in {"33", *ORIGIN_PROVINCES}]
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    valid = np.array([[r.valid_in(int(y)) for y in years] for r in regions], dtype=bool)
    index = {r.code: i for i, r in enumerate(regions)}
    hz = np.array([i for c, i in index.items() if c.startswith("3301")])
    zj = np.array([i for c, i in index.items() if c.startswith("33") and not c.startswith("3301")])
    groups: list[tuple[float, np.ndarray]] = [(0.5, hz), (0.2, zj)]
    total = sum(ORIGIN_PROVINCES.values())
    for prefix, weight in sorted(ORIGIN_PROVINCES.items()):
        members = np.array([i for c, i in index.items() if c.startswith(prefix)])
        groups.append((0.3 * weight / total, members))
    return BirthRegions(
        regions=tuple(regions),
        codes=np.array([int(r.code) for r in regions], dtype=np.int64),
        valid=valid,
        groups=tuple(groups),
    )
