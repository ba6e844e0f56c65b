"""The manifest's defect counts are what an independent checker finds in the files.

The checker below knows nothing of the generator's internals: it reads each file as the
manifest declares, standardises values the way the ingest will (NFKC, trim, upper case) and
judges them with stdnum and the catalogue's rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from stdnum.cn import ric, uscc

from catalog.domain import DataType
from demo.catalog import RESOURCES, parse_item
from demo.synth import SynthOptions, read_manifest, synthesise
from demo.synth.readback import read_rows

BATCH = date(2026, 3, 1)
RATE = 0.08
CHINESE_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
NUMERIC = {DataType.MONEY, DataType.INTEGER, DataType.NUMBER, DataType.DOUBLE, DataType.FLOAT}
FUTURE_ALLOWED = ("有效期至", "有效期")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("synth-defects")
    synthesise(SynthOptions(out=out, scale=3000, seed=5, defect_rate=RATE))
    return out, read_manifest(out / "manifest.json")


def _items(mount: str) -> dict[str, Any]:
    resource = next(r for r in RESOURCES if r.mount == mount)
    return {i.name: i for i in map(parse_item, resource.items)}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _standard(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().upper()


def _valid_identifier(name: str, value: str) -> bool:
    value = _standard(value)
    if name.endswith("身份证号"):
        return ric.is_valid(value)
    if name.endswith("统一社会信用代码"):
        return uscc.is_valid(value)
    return ric.is_valid(value) or uscc.is_valid(value)  # 持证主体代码


def _date(value: str) -> date | None:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    if re.fullmatch(r"\d{8}", value):
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    return None


def _out_of_range(item: Any, value: str) -> bool:
    if item.name == "纳税信用等级":
        return value not in {"A", "B", "M", "C", "D"}
    if item.name == "评价年度":
        return int(float(value)) > BATCH.year
    if (
        item.data_type is DataType.CHAR
        and item.length == 6
        and item.name.endswith(("月份", "所属期"))
    ):
        return re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", value) is None
    if item.data_type is DataType.DATE and not item.name.endswith(FUTURE_ALLOWED):
        day = _date(value)
        return day is not None and day >= BATCH
    if item.data_type in NUMERIC:
        try:
            return float(value) < 0
        except ValueError:
            return False
    return False


def check(entry: dict[str, Any], rows: list[dict[str, Any]]) -> Counter[str]:
    """Defect counts found in the rows, one kind per row as the generator promises."""
    items = _items(entry["mount"])
    found: Counter[str] = Counter()
    seen: set[tuple[str, ...]] = set()
    for row in rows:
        text = {k: _text(v) for k, v in row.items()}
        if any(not (text[k] or "").strip() for k in entry["required"]):
            found["missing_required"] += 1
            continue
        key = tuple(_standard(text[k] or "") for k in entry["key"])
        if key in seen:
            found["duplicate_key"] += 1
            continue
        seen.add(key)
        kinds = set()
        for name, value in text.items():
            if value is None:
                continue
            item = items[name]
            if (name.endswith(("身份证号", "统一社会信用代码")) or name == "持证主体代码") and (
                not _valid_identifier(name, value)
            ):
                kinds.add("wrong_check_digit")
            if re.search("[０-９Ａ-Ｚａ-ｚ]", value):
                kinds.add("full_width")
            if value != value.strip():
                kinds.add("whitespace")
            if item.data_type is DataType.DATE and CHINESE_DATE.fullmatch(value):
                kinds.add("date_chinese")
            if item.data_type is DataType.DATE and re.fullmatch(r"\d{5}", value):
                kinds.add("date_excel_serial")
            if (name.endswith("身份证号") or name == "持证主体代码") and value.endswith("x"):
                kinds.add("lowercase_x")
            if value == value.strip() and _out_of_range(item, value):
                kinds.add("out_of_range")
        assert len(kinds) <= 1, (entry["mount"], row, kinds)
        found.update(kinds)
    return found


def test_manifest_counts_match_what_a_checker_finds_in_every_file(
    run: tuple[Path, dict[str, Any]],
) -> None:
    out, manifest = run
    for entry in manifest["files"]:
        _header, rows = read_rows(out, entry)
        assert len(rows) == entry["rows"]
        expected = {**entry["defects"]["rejectable"], **entry["defects"]["standardisable"]}
        found = check(entry, rows)
        assert {k: found.get(k, 0) for k in expected} == expected, entry["mount"]


def test_defects_appear_at_about_the_requested_rate(run: tuple[Path, dict[str, Any]]) -> None:
    _out, manifest = run
    big = [f for f in manifest["files"] if f["rows"] > 500]
    assert len(big) >= 4
    defective = sum(
        sum(f["defects"]["rejectable"].values()) + sum(f["defects"]["standardisable"].values())
        for f in big
    )
    rows = sum(f["rows"] for f in big)
    assert RATE * 0.8 < defective / rows < RATE * 1.2
    totals: Counter[str] = Counter()
    for f in manifest["files"]:
        totals.update(f["defects"]["rejectable"])
        totals.update(f["defects"]["standardisable"])
    assert all(totals[k] > 0 for k in totals), totals  # every kind occurs at this scale


def test_truth_file_lists_each_defect_at_its_row(run: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = run
    entry = next(f for f in manifest["files"] if f["mount"] == "ga_population")
    _header, rows = read_rows(out, entry)
    truth = pq.read_table(out / entry["truth"]).to_pylist()
    assert Counter(t["kind"] for t in truth) == +Counter(
        {**entry["defects"]["rejectable"], **entry["defects"]["standardisable"]}
    )
    for t in truth:
        row = rows[t["row"] - 1]
        if t["kind"] == "duplicate_key":
            continue
        value: Any = row[t["item"]]
        if t["kind"] == "missing_required":
            assert value is None
            continue
        assert isinstance(value, str)
        if t["kind"] == "wrong_check_digit":
            assert not ric.is_valid(_standard(value))
        elif t["kind"] in ("full_width", "whitespace", "lowercase_x") and t["item"] == "身份证号":
            assert value != _standard(value) and ric.is_valid(_standard(value))
        elif t["kind"] == "date_excel_serial":
            expected = date(1899, 12, 30) + timedelta(days=int(value))
            assert expected == ric.get_birth_date(row["身份证号"])
        elif t["kind"] == "date_chinese":
            assert CHINESE_DATE.fullmatch(value)
        elif t["kind"] == "out_of_range":
            day = _date(value)
            assert t["item"] == "出生日期" and day is not None and day > BATCH


def test_planted_duplicates_repeat_an_earlier_key(run: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = run
    entry = next(f for f in manifest["files"] if f["mount"] == "rs_person_contributions")
    _header, rows = read_rows(out, entry)
    assert entry["duplicate_keys"]
    assert len(entry["duplicate_keys"]) == entry["defects"]["rejectable"]["duplicate_key"]
    for dup in entry["duplicate_keys"]:
        copy, source = rows[dup["row"] - 1], rows[dup["source_row"] - 1]
        assert dup["source_row"] < dup["row"]
        assert (
            {k: copy[k] for k in entry["key"]} == dup["key"] == {k: source[k] for k in entry["key"]}
        )
        assert (copy == source) == dup["identical"]
    assert any(d["identical"] for d in entry["duplicate_keys"])
    assert any(not d["identical"] for d in entry["duplicate_keys"])
    assert not entry["duplicate_keys_truncated"]
    truth = pq.read_table(out / entry["truth"]).to_pylist()
    assert {(t["row"], t["source_row"]) for t in truth if t["kind"] == "duplicate_key"} == {
        (d["row"], d["source_row"]) for d in entry["duplicate_keys"]
    }


def test_same_seed_at_another_rate_keeps_the_underlying_records(
    run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _manifest = run
    synthesise(
        SynthOptions(
            out=tmp_path,
            scale=3000,
            seed=5,
            defect_rate=0.0,
            resources=("scjg_enterprise_registration",),
        )
    )
    clean = tmp_path / "scjg_enterprise_registration/scjg_enterprise_registration_20260301.csv"
    dirty = out / "scjg_enterprise_registration/scjg_enterprise_registration_20260301.csv"
    clean_lines = clean.read_text(encoding="utf-8").splitlines()
    dirty_lines = set(dirty.read_text(encoding="utf-8").splitlines())
    unchanged = sum(line in dirty_lines for line in clean_lines)
    assert unchanged / len(clean_lines) > 1 - RATE * 1.5


def test_rows_with_planted_conflicts_are_never_made_defective(
    run: tuple[Path, dict[str, Any]],
) -> None:
    out, manifest = run
    files = {f["mount"]: f for f in manifest["files"]}
    assert manifest["conflicts"]
    for conflict in manifest["conflicts"]:
        for source in conflict["sources"]:
            _header, rows = read_rows(out, files[source["mount"]])
            matching = [r for r in rows if r[conflict["key_item"]] == conflict["key"]]
            assert matching, (source["mount"], conflict["field"])
            assert {r[conflict["field"]] for r in matching} == {source["value"]}
