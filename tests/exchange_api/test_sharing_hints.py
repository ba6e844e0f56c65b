"""Predicate hints never drop a file that could hold a matching row (SQL three-valued logic)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_api.sharing_hints import file_filter, judge, sql_hint
from lake.masked import file_stats

COLUMNS = {
    "n": ("long", st.integers(-5, 5)),
    "s": ("string", st.sampled_from(["", "1***12", "张**", "a", "b", "孙**", "z"])),
    "d": ("date", st.dates(date(2020, 1, 1), date(2020, 1, 5))),
}
ARROW = {"n": pa.int64(), "s": pa.string(), "d": pa.date32()}


def _leaf_pair(draw: Any) -> list[dict[str, Any]]:
    name = draw(st.sampled_from(sorted(COLUMNS)))
    kind, values = COLUMNS[name]
    value = draw(values)
    literal = {"op": "literal", "value": str(value), "valueType": kind}
    column = {"op": "column", "name": name, "valueType": kind}
    return [column, literal] if draw(st.booleans()) else [literal, column]


@st.composite
def trees(draw: Any, depth: int = 0) -> dict[str, Any]:
    choices = ["equal", "lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual",
               "isNull"] + (["and", "or", "not"] if depth < 3 else [])  # fmt: skip
    op = draw(st.sampled_from(choices))
    if op == "isNull":
        name = draw(st.sampled_from(sorted(COLUMNS)))
        return {"op": op, "children": [{"op": "column", "name": name}]}
    if op == "not":
        return {"op": op, "children": [draw(trees(depth + 1))]}
    if op in ("and", "or"):
        return {"op": op, "children": draw(st.lists(trees(depth + 1), min_size=2, max_size=3))}
    return {"op": op, "children": _leaf_pair(draw)}


def _value(leaf: dict[str, Any], row: dict[str, Any]) -> Any:
    if leaf["op"] == "column":
        return row[leaf["name"]]
    kind = leaf["valueType"]
    return {"long": int, "string": str, "date": date.fromisoformat}[kind](leaf["value"])


def evaluate(tree: dict[str, Any], row: dict[str, Any]) -> bool | None:
    """SQL semantics for one row: True, False or None (unknown)."""
    op, children = tree["op"], tree.get("children", [])
    if op == "isNull":
        return row[children[0]["name"]] is None
    if op == "not":
        inner = evaluate(children[0], row)
        return None if inner is None else not inner
    if op in ("and", "or"):
        parts = [evaluate(c, row) for c in children]
        decisive = op == "or"
        if decisive in parts:
            return decisive
        return None if None in parts else not decisive
    left, right = _value(children[0], row), _value(children[1], row)
    if left is None or right is None:
        return None
    return {
        "equal": left == right, "lessThan": left < right, "lessThanOrEqual": left <= right,
        "greaterThan": left > right, "greaterThanOrEqual": left >= right,
    }[op]  # fmt: skip


ROWS = st.lists(
    st.fixed_dictionaries({n: st.one_of(st.none(), v) for n, (_k, v) in COLUMNS.items()}),
    min_size=1,
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(rows=ROWS, tree=trees())
def test_a_file_with_a_matching_row_is_never_skipped(
    rows: list[dict[str, Any]], tree: dict[str, Any]
) -> None:
    data = pa.table({n: pa.array([r[n] for r in rows], ARROW[n]) for n in COLUMNS})
    stats = json.loads(json.dumps(file_stats(data)))  # as the manifest and the wire carry them
    outcomes = {evaluate(tree, row) for row in rows}
    can_true, can_false = judge(tree, stats)
    if True in outcomes:
        assert can_true
    if False in outcomes:
        assert can_false


def test_stats_skip_a_file_only_when_they_rule_the_value_out() -> None:
    stats = {"numRecords": 3, "minValues": {"s": "b", "n": 2}, "maxValues": {"s": "d", "n": 9},
             "nullCount": {"s": 0, "n": 1}}  # fmt: skip

    def equal(name: str, value: str, kind: str) -> dict[str, Any]:
        return {"op": "equal", "children": [
            {"op": "column", "name": name, "valueType": kind},
            {"op": "literal", "value": value, "valueType": kind},
        ]}  # fmt: skip

    assert judge(equal("s", "c", "string"), stats)[0]
    assert not judge(equal("s", "e", "string"), stats)[0]
    assert not judge(equal("n", "10", "long"), stats)[0]
    assert judge(equal("n", "10", "string"), stats)[0]  # a number is not text: no judgement
    assert judge(equal("unknown", "x", "string"), stats)[0]  # no statistics: keep
    assert judge({"op": "somethingNew"}, stats)[0]
    assert judge({"op": "isNull", "children": [{"op": "column", "name": "n"}]}, stats)[0]
    assert not judge({"op": "isNull", "children": [{"op": "column", "name": "s"}]}, stats)[0]


def test_sql_hints_read_the_simple_forms_and_skip_the_rest() -> None:
    assert sql_hint("统一社会信用代码 = '91110000X'") == {
        "op": "equal",
        "children": [
            {"op": "column", "name": "统一社会信用代码", "valueType": "string"},
            {"op": "literal", "value": "91110000X", "valueType": "string"},
        ],
    }
    assert sql_hint("3 < n")["children"][1] == {"op": "column", "name": "n", "valueType": "long"}  # type: ignore[index]
    assert sql_hint("s IS NOT NULL") == {
        "op": "not", "children": [{"op": "isNull", "children": [{"op": "column", "name": "s"}]}]
    }  # fmt: skip
    assert sql_hint("s <> 'it''s'")["op"] == "not"  # type: ignore[index]
    assert sql_hint("s LIKE 'a%'") is None
    stats = {"numRecords": 1, "minValues": {"s": "b"}, "maxValues": {"s": "b"},
             "nullCount": {"s": 0}}  # fmt: skip
    assert not file_filter(json_hints=None, sql_hints=["s = 'c'", "s LIKE 'x'"])(stats)
    assert file_filter(json_hints=None, sql_hints=["s = 'b'"])(stats)
    assert file_filter(json_hints="[not json", sql_hints=None)(stats)
