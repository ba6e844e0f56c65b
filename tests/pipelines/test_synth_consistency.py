"""Extracts agree with each other the way real departments' data does, except where planted."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from stdnum.cn import ric

from demo.synth import SynthOptions, read_manifest, synthesise
from demo.synth.readback import read_rows

Run = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("synth-consistency")
    synthesise(SynthOptions(out=out, scale=2000, seed=21, defect_rate=0.0))
    return out, read_manifest(out / "manifest.json")


def rows_of(run: Run, mount: str) -> list[dict[str, Any]]:
    out, manifest = run
    return read_rows(out, next(f for f in manifest["files"] if f["mount"] == mount))[1]


def _day(value: str) -> date:
    if len(value) == 8:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    return date.fromisoformat(value)


def _age_on(number: str, day: date) -> int:
    born = ric.get_birth_date(number)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def test_marriages_pair_a_man_and_a_woman_of_legal_age(run: Run) -> None:
    population = {r["身份证号"]: r for r in rows_of(run, "ga_population")}
    marriages = rows_of(run, "mz_marriage")
    assert len(marriages) > 100
    married: set[tuple[str, str]] = set()
    for m in marriages:
        man, woman, day = m["男方身份证号"], m["女方身份证号"], _day(m["登记日期"])
        assert int(man[16]) % 2 == 1 and int(woman[16]) % 2 == 0
        assert population[man]["性别"] == "男" and population[woman]["性别"] == "女"
        assert _age_on(man, day) >= 22 and _age_on(woman, day) >= 20
        assert m["登记证号"][0] == ("J" if m["登记类型"] == "结婚" else "L")
        if m["登记类型"] == "结婚":
            married.add((man, woman))
        else:  # a divorce follows the couple's marriage in the registry's date order
            assert (man, woman) in married
    spouses = Counter(m["男方身份证号"] for m in marriages if m["登记类型"] == "结婚")
    assert max(spouses.values()) == 1


def test_contributions_name_registered_people_and_employers(run: Run) -> None:
    population = {r["身份证号"]: r for r in rows_of(run, "ga_population")}
    registered = {r["统一社会信用代码"] for r in rows_of(run, "scjg_enterprise_registration")}
    contributions = rows_of(run, "rs_person_contributions")
    employees: dict[str, set[str]] = {}
    for c in contributions:
        person = population[c["身份证号"]]
        assert c["姓名"] == person["姓名"]
        assert c["参保单位统一社会信用代码"] in registered
        assert 16 <= _age_on(c["身份证号"], date(2026, 3, 1)) <= 61
        employees.setdefault(c["参保单位统一社会信用代码"], set()).add(c["身份证号"])
    insurance = rows_of(run, "rs_enterprise_insurance")
    assert insurance
    for firm in insurance:
        assert firm["参保人数"] == len(employees[firm["统一社会信用代码"]])


def test_the_dead_are_deregistered_certified_and_no_longer_insured(run: Run) -> None:
    population = {r["身份证号"] for r in rows_of(run, "ga_population")}
    deregistered = rows_of(run, "ga_deregistration")
    certificates = rows_of(run, "wj_death_certificates")
    insured = {c["身份证号"] for c in rows_of(run, "rs_person_contributions")}
    dead = {r["身份证号"] for r in deregistered if r["注销原因"] == "死亡"}
    assert dead and certificates
    for r in deregistered:
        assert r["身份证号"] in population
        if r["注销原因"] == "死亡":
            assert _day(r["死亡日期"]) <= _day(r["注销日期"])
        else:
            assert r["死亡日期"] is None
    assert {c["身份证号"] for c in certificates} <= population
    assert not (dead | {c["身份证号"] for c in certificates}) & insured


def test_planted_conflicts_are_in_the_files_and_are_the_only_disagreements(run: Run) -> None:
    _out, manifest = run
    conflicts = manifest["conflicts"]
    registration = {
        r["统一社会信用代码"]: r["企业名称"] for r in rows_of(run, "scjg_enterprise_registration")
    }
    tax_names: dict[str, set[str]] = {}
    for r in rows_of(run, "sw_tax_paid"):
        tax_names.setdefault(r["统一社会信用代码"], set()).add(r["企业名称"])
    disagree = {code for code, names in tax_names.items() if names != {registration[code]}}
    planted_names = {c["key"] for c in conflicts if c["field"] == "企业名称"}
    assert planted_names and disagree == planted_names
    for c in conflicts:
        if c["field"] != "企业名称":
            continue
        official, other = c["sources"]
        assert official["authoritative"] and not other["authoritative"]
        assert registration[c["key"]] == official["value"]
        assert tax_names[c["key"]] == {other["value"]} != {official["value"]}

    police = {
        r["身份证号"]: r["死亡日期"] for r in rows_of(run, "ga_deregistration") if r["死亡日期"]
    }
    health = {r["身份证号"]: r["死亡日期"] for r in rows_of(run, "wj_death_certificates")}
    differ = {k for k in police.keys() & health.keys() if police[k] != health[k]}
    planted_deaths = {c["key"] for c in conflicts if c["field"] == "死亡日期"}
    assert planted_deaths and differ == planted_deaths
    for c in conflicts:
        if c["field"] == "死亡日期":
            assert [s["value"] for s in c["sources"]] == [police[c["key"]], health[c["key"]]]
            assert [s["mount"] for s in c["sources"]] == [
                "ga_deregistration",
                "wj_death_certificates",
            ]


def test_licence_library_mirrors_the_departments_licences(run: Run) -> None:
    licences = rows_of(run, "sjj_e_licences")
    registration = rows_of(run, "scjg_enterprise_registration")
    by_type = Counter(r["证照类型"] for r in licences)
    assert by_type["营业执照"] == len(registration)
    assert by_type["机动车驾驶证"] > 0
    library = {(r["证照类型"], r["证照编号"]): r for r in licences}
    for cert in rows_of(run, "zj_construction_licences"):
        mirrored = library[("建筑业企业资质证书", cert["证书编号"])]
        assert mirrored["持证主体代码"] == cert["统一社会信用代码"]
        assert mirrored["有效期至"] == cert["有效期至"]
    for lic in rows_of(run, "wj_medical_licences"):
        mirrored = library[("医疗机构执业许可证", lic["许可证编号"])]
        assert mirrored["持证主体名称"] == lic["机构名称"]
    for r in licences:
        if r["证照类型"] == "机动车驾驶证":
            assert r["证照编号"] == r["持证主体代码"] and ric.is_valid(r["持证主体代码"])
        if r["有效期至"] and r["证照状态"] in ("有效", "过期"):
            assert (r["证照状态"] == "过期") == (_day(r["有效期至"]) < date(2026, 3, 1))
