"""Delta Sharing predicate hints: skip masked files whose statistics rule a match out.

PROTOCOL.md ("SQL Expressions for Filtering", "JSON predicates for Filtering"): hints are
best effort, the client filters the rows itself, so a hint the server cannot read or judge
keeps every file. The one rule that must never bend: a file that could hold a matching row is
never dropped. Each predicate is judged per file in SQL's three-valued logic as two answers,
"could some row make it true" and "could some row make it false" (``not`` swaps them), from
the file's ``minValues`` / ``maxValues`` / ``nullCount`` / ``numRecords``. The statistics are
those of the masked values, which is also what the client's own filter will see.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

Stats = Mapping[str, Any]
Judgement = tuple[bool, bool]  # (could be true for some row, could be false for some row)
UNKNOWN: Judgement = (True, True)
MAX_DEPTH = 32

_FLIPPED = {"lessThan": "greaterThan", "lessThanOrEqual": "greaterThanOrEqual",
            "greaterThan": "lessThan", "greaterThanOrEqual": "lessThanOrEqual",
            "equal": "equal"}  # fmt: skip
_SQL_OPS = {"=": "equal", "<": "lessThan", "<=": "lessThanOrEqual", ">": "greaterThan",
            ">=": "greaterThanOrEqual"}  # fmt: skip
_SQL_COMPARISON = re.compile(
    r"""^\s*(?P<left>`[^`]+`|[\w.]+|'(?:[^']|'')*'|-?\d+(?:\.\d+)?)\s*
    (?P<op><>|<=|>=|=|<|>)\s*
    (?P<right>`[^`]+`|[\w.]+|'(?:[^']|'')*'|-?\d+(?:\.\d+)?)\s*$""",
    re.VERBOSE,
)
_SQL_NULL = re.compile(r"^\s*(?P<col>`[^`]+`|[\w.]+)\s+IS\s+(?P<not>NOT\s+)?NULL\s*$", re.I)


def _literal(value: Any, value_type: str) -> Any:
    """A literal as ``value_type`` (the JSON form sends numbers as text too)."""
    if value_type in ("int", "long"):
        if isinstance(value, bool):
            raise TypeError("bool is not a number")
        return int(value)
    if value_type in ("float", "double"):
        number = float(value)
        if number != number:
            raise ValueError("NaN compares with nothing")
        return number
    if value_type == "string":
        return str(value)
    if value_type == "date":
        return date.fromisoformat(str(value))
    if value_type == "timestamp":
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    raise ValueError(f"unsupported value type {value_type}")


def _statistic(value: Any, value_type: str) -> Any:
    """A file statistic as ``value_type``, strictly: a text column's "10" is no number, since
    text and numbers order differently (``"10" < "9"``)."""
    if value_type in ("int", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("not a number")
        return value
    if not isinstance(value, str):
        raise TypeError("not text")
    if value_type == "string":
        return value
    if value_type == "date":
        return date.fromisoformat(value)
    if value_type == "timestamp":
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    raise ValueError(f"unsupported value type {value_type}")


def _leaf(node: Mapping[str, Any]) -> tuple[str, Any] | None:
    """("column", name) or ("literal", value), or None for anything else."""
    op = node.get("op")
    if op == "column" and isinstance(node.get("name"), str):
        return "column", node["name"]
    if op == "literal" and "value" in node:
        return "literal", node["value"]
    return None


def _compare(op: str, children: Sequence[Any], stats: Stats) -> Judgement:
    if len(children) != 2 or not all(isinstance(c, Mapping) for c in children):
        return UNKNOWN
    left, right = _leaf(children[0]), _leaf(children[1])
    if left is None or right is None:
        return UNKNOWN
    if left[0] == "literal" and right[0] == "column":
        left, right, children = right, left, [children[1], children[0]]
        op = _FLIPPED[op]
    if left[0] != "column" or right[0] != "literal":
        return UNKNOWN
    name = left[1]
    value_type = str(children[1].get("valueType") or children[0].get("valueType") or "")
    rows = stats.get("numRecords")
    nulls = stats.get("nullCount", {}).get(name)
    if isinstance(rows, int) and isinstance(nulls, int) and nulls >= rows:
        return (False, False)  # every value null: a comparison is never true nor false
    low, high = stats.get("minValues", {}).get(name), stats.get("maxValues", {}).get(name)
    if low is None or high is None or right[1] is None:
        return UNKNOWN
    try:
        low, high = _statistic(low, value_type), _statistic(high, value_type)
        literal = _literal(right[1], value_type)
        if value_type in ("float", "double") and op in ("greaterThan", "greaterThanOrEqual"):
            # NaN sorts above every number for Spark and is left out of min/max: a file's
            # maximum cannot rule "greater than" out.
            return True, low <= literal if op == "greaterThan" else low < literal
        if op == "equal":
            return low <= literal <= high, not (low == literal == high)
        if op == "lessThan":
            return low < literal, high >= literal
        if op == "lessThanOrEqual":
            return low <= literal, high > literal
        if op == "greaterThan":
            return high > literal, low <= literal
        if op == "greaterThanOrEqual":
            return high >= literal, low < literal
    except (TypeError, ValueError, OverflowError):
        return UNKNOWN  # a type the statistics cannot be compared as: judge nothing
    return UNKNOWN


def judge(node: Any, stats: Stats, depth: int = 0) -> Judgement:
    """Whether some row of the file could make ``node`` true, and whether some could make it
    false; anything not understood is (True, True)."""
    if not isinstance(node, Mapping) or depth > MAX_DEPTH:
        return UNKNOWN
    op = node.get("op")
    children = node.get("children") or []
    if not isinstance(children, list):
        return UNKNOWN
    if op in ("and", "or"):
        if not children:
            return UNKNOWN
        parts = [judge(c, stats, depth + 1) for c in children]
        if op == "and":
            return all(t for t, _ in parts), any(f for _, f in parts)
        return any(t for t, _ in parts), all(f for _, f in parts)
    if op == "not":
        if len(children) != 1:
            return UNKNOWN
        can_true, can_false = judge(children[0], stats, depth + 1)
        return can_false, can_true
    if op == "isNull":
        only = children[0] if len(children) == 1 else None
        column = _leaf(only) if isinstance(only, Mapping) else None
        if column is None or column[0] != "column":
            return UNKNOWN
        nulls = stats.get("nullCount", {}).get(column[1])
        rows = stats.get("numRecords")
        if not isinstance(nulls, int) or not isinstance(rows, int):
            return UNKNOWN
        return nulls > 0, nulls < rows
    if op in _FLIPPED:
        return _compare(str(op), children, stats)
    return UNKNOWN


def _sql_leaf(text: str) -> dict[str, Any]:
    if text.startswith("'"):
        return {"op": "literal", "value": text[1:-1].replace("''", "'"), "valueType": "string"}
    if re.fullmatch(r"-?\d+", text):
        return {"op": "literal", "value": text, "valueType": "long"}
    if re.fullmatch(r"-?\d+\.\d+", text):
        return {"op": "literal", "value": text, "valueType": "double"}
    return {"op": "column", "name": text.strip("`")}


def _typed(node: dict[str, Any]) -> dict[str, Any]:
    """A SQL comparison's column takes its literal's type, as the JSON form states both."""
    kinds = [c.get("valueType") for c in node["children"] if c["op"] == "literal"]
    for child in node["children"]:
        if child["op"] == "column" and kinds:
            child["valueType"] = kinds[0]
    return node


def sql_hint(text: str) -> dict[str, Any] | None:
    """One SQL predicate hint (``col = 'x'``, ``col >= 3``, ``col IS NOT NULL``) as the JSON
    form, or None when it is not one of the simple forms the protocol lists."""
    null = _SQL_NULL.fullmatch(text)
    if null is not None:
        tree = {"op": "isNull", "children": [{"op": "column", "name": null["col"].strip("`")}]}
        return {"op": "not", "children": [tree]} if null["not"] else tree
    match = _SQL_COMPARISON.fullmatch(text)
    if match is None:
        return None
    left, right = _sql_leaf(match["left"]), _sql_leaf(match["right"])
    if match["op"] == "<>":
        return {"op": "not", "children": [_typed({"op": "equal", "children": [left, right]})]}
    return _typed({"op": _SQL_OPS[match["op"]], "children": [left, right]})


def file_filter(
    *, json_hints: str | None, sql_hints: Sequence[str] | None
) -> Callable[[Stats], bool]:
    """A test "could this file hold a matching row" from the query's hints (all of them must
    hold); unreadable hints are dropped, so no hint at all keeps every file."""
    trees: list[Any] = []
    if json_hints:
        with contextlib.suppress(ValueError):
            trees.append(json.loads(json_hints))
    for text in sql_hints or []:
        tree = sql_hint(text) if isinstance(text, str) else None
        if tree is not None:
            trees.append(tree)

    def may_match(stats: Stats) -> bool:
        return all(judge(tree, stats)[0] for tree in trees)

    return may_match
