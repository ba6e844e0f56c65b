"""Identifiers in synthetic extracts are valid by default, as stdnum and GB/T 2260 judge them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from stdnum.cn import ric, uscc

from catalog.identifiers import region_name
from demo.synth import SynthOptions, read_manifest, synthesise
from demo.synth import identifiers as ids
from demo.synth.readback import read_rows


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("synth-clean")
    synthesise(SynthOptions(out=out, scale=1000, seed=11, defect_rate=0.0))
    return out, read_manifest(out / "manifest.json")


def _rows(run: tuple[Path, dict[str, Any]], mount: str) -> list[dict[str, Any]]:
    out, manifest = run
    entry = next(f for f in manifest["files"] if f["mount"] == mount)
    return read_rows(out, entry)[1]


def test_vectorised_ric_check_digits_agree_with_stdnum() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    region = rng.choice([330106, 110101, 340102, 510104], size=n)
    birth = (np.datetime64("1950-01-01") + rng.integers(0, 25_000, n)).astype("datetime64[D]")
    seq = rng.integers(1, 1000, n)
    values = ids.to_arrow(ids.ric_matrix(region, birth, seq)).to_pylist()
    assert all(ric.calc_check_digit(v) == v[-1] for v in values)


def test_vectorised_uscc_and_organisation_codes_agree_with_stdnum() -> None:
    rng = np.random.default_rng(4)
    n = 20_000
    org = ids.org_codes(rng, n, rng.random(n) < 0.5)
    values = ids.to_arrow(ids.uscc_matrix(b"91", np.full(n, 330106), org)).to_pylist()
    assert all(uscc.is_valid(v) for v in values)
    # GB 11714: the ninth character checks the first eight (60003734-1 is a published code).
    known = np.frombuffer(b"60003734", dtype=np.uint8)
    weights = np.where(known >= ord("A"), known.astype(int) - 55, known.astype(int) - 48)
    assert chr(ids.ORG_CHECK[11 - (weights @ ids.ORG_WEIGHTS) % 11]) == "1"


def test_every_uscc_and_id_number_is_valid_at_defect_rate_zero(
    clean_run: tuple[Path, dict[str, Any]],
) -> None:
    out, manifest = clean_run
    checked = 0
    for entry in manifest["files"]:
        _header, rows = read_rows(out, entry)
        for name in entry["columns"]:
            for row in rows:
                value = row[name]
                if value is None:
                    continue
                if name.endswith("身份证号"):
                    assert ric.is_valid(value), (entry["mount"], name)
                    checked += 1
                elif name.endswith("统一社会信用代码"):
                    assert uscc.is_valid(value), (entry["mount"], name)
                    checked += 1
                elif name == "持证主体代码":
                    assert ric.is_valid(value) or uscc.is_valid(value)
                    checked += 1
    assert checked > 5000


def test_population_sex_and_birth_date_follow_the_id_number(
    clean_run: tuple[Path, dict[str, Any]],
) -> None:
    rows = _rows(clean_run, "ga_population")
    assert len(rows) == 1000
    for row in rows:
        number = row["身份证号"]
        assert ric.get_birth_date(number) == dt.date.fromisoformat(row["出生日期"])
        assert row["性别"] == ("男" if int(number[16]) % 2 else "女")
        assert ric.get_birth_place(number)  # region valid in the birth year
        assert region_name(row["行政区划代码"]) is not None
        assert row["户籍地址"].startswith("浙江省杭州市")
    men = sum(r["性别"] == "男" for r in rows)
    assert 400 < men < 620


def test_enterprise_region_codes_exist_and_match_the_uscc(
    clean_run: tuple[Path, dict[str, Any]],
) -> None:
    rows = _rows(clean_run, "scjg_enterprise_registration")
    assert len(rows) == 100
    for row in rows:
        assert row["统一社会信用代码"][:2] == "91"
        assert row["统一社会信用代码"][2:8] == row["行政区划代码"]
        assert region_name(row["行政区划代码"]) is not None
        assert row["企业名称"].endswith("公司")
        assert float(row["注册资本"]) > 0
    assert len({r["统一社会信用代码"] for r in rows}) == 100
    assert sum(r["行政区划代码"].startswith("3301") for r in rows) > 60


def test_keys_are_unique_at_defect_rate_zero(clean_run: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = clean_run
    for entry in manifest["files"]:
        _header, rows = read_rows(out, entry)
        keys = [tuple(str(r[k]) for k in entry["key"]) for r in rows]
        assert len(keys) == len(set(keys)), entry["mount"]
        assert entry["defects"]["rejectable"] == dict.fromkeys(entry["defects"]["rejectable"], 0)
