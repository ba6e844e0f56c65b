"""Prebuilt pools of Chinese names, roads, estates and company name stems.

Faker('zh_CN') is realistic but costs tens of microseconds a call; the generator calls it a few
thousand times per run to fill these pools (seeded, so the pools are the same for a seed) and
then samples them with numpy indices for millions of rows.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from faker import Faker

from demo.synth.text import strings

POOL_SIZE = 5000

# Characters that turn up in estate and shop names (锦华苑, 金泰...).
_NICE = "锦华景和嘉泰金阳光明瑞祥安康福盛兴隆宏达通汇丰源恒昌鑫东方新世纪云海天宇星辰翠绿江南"
_ESTATE_SUFFIX = ["小区", "花园", "苑", "新村", "家园", "公寓", "府", "名邸"]
# Road-name stems of the demo city, mixed with Faker's city names for variety.
_ROAD_STEMS = [
    "文一西", "文二", "文三", "天目山", "莫干山", "延安", "解放", "庆春", "凤起", "体育场",
    "江南", "滨盛", "网商", "秋涛", "环城北", "古墩", "教工", "学院", "余杭塘", "五常",
    "金城", "市心", "人民", "建设", "育才", "工人", "丰潭", "紫金港", "留和", "之江",
]  # fmt: skip
_ROAD_SUFFIX = ["路", "街", "大道", "巷", "弄"]
_ROAD_SUFFIX_P = [0.6, 0.2, 0.1, 0.07, 0.03]


def stream(seed: int, *names: str | int) -> np.random.Generator:
    """An independent random stream for (seed, names...): tables and chunks never share one.

    Streams are keyed by stable hashes of the names, not by call order, so adding a table or
    changing the defect rate leaves every other table's values unchanged.
    """
    words = [seed, *(zlib.crc32(n.encode()) if isinstance(n, str) else n for n in names)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


@dataclass(frozen=True)
class Pools:
    surnames: pa.Array
    male_given: pa.Array
    female_given: pa.Array
    roads: pa.Array
    estates: pa.Array
    company_stems: pa.Array


def _given_names(fake: Faker, rng: np.random.Generator, singles: list[str], n: int) -> list[str]:
    """Given names like real ones: some single characters, most two (伟 / 晓梅)."""
    chars = sorted({c for name in singles for c in name})
    out = []
    for _ in range(n):
        if rng.random() < 0.3:
            out.append(singles[int(rng.integers(len(singles)))])
        else:
            a, b = rng.integers(len(chars), size=2)
            out.append(chars[int(a)] + chars[int(b)])
    return out


def build_pools(seed: int, size: int = POOL_SIZE) -> Pools:
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = stream(seed, "pools")
    male = [fake.first_name_male() for _ in range(400)]
    female = [fake.first_name_female() for _ in range(400)]
    stems = _ROAD_STEMS + sorted({fake.city_name() for _ in range(300)})
    roads = [
        stems[int(rng.integers(len(stems)))]
        + _ROAD_SUFFIX[int(rng.choice(len(_ROAD_SUFFIX), p=_ROAD_SUFFIX_P))]
        for _ in range(size // 5)
    ]
    estates = [
        "".join(rng.choice(list(_NICE), size=2)) + str(rng.choice(_ESTATE_SUFFIX))
        for _ in range(size // 5)
    ]
    prefixes = [p for p in (fake.company_prefix() for _ in range(300)) if len(p) <= 3]
    company = sorted(set(prefixes)) + [
        "".join(rng.choice(list(_NICE), size=2)) for _ in range(size)
    ]
    return Pools(
        surnames=strings([fake.last_name() for _ in range(size)]),
        male_given=strings(_given_names(fake, rng, male, size)),
        female_given=strings(_given_names(fake, rng, female, size)),
        roads=strings(roads),
        estates=strings(estates),
        company_stems=strings(company[:size]),
    )
