"""Quality rules (质检规则): generated from the catalogue's data items or added by stewards.

A :class:`Rule` has a stable id, a Chinese label (English beside it), the Great Expectations
expectation it corresponds to (class name and kwargs) and a failed condition over the item's
standardised text and typed value, as Arrow arrays. The ingest job evaluates
``RuleSet.item_checks`` and ``RuleSet.reference_checks`` on each Arrow batch inside Spark
``mapInArrow`` tasks and folds the ``(condition, reason)`` pairs into ``_errors`` with
``checks.standardise.error_list``: as Spark column expressions the rules cost about six
plain scans, while ``pyarrow.compute`` evaluates them 10-20× faster, still in the job's one
pass and with nothing collected to the driver. The same rules build the GE suite
(``quality.expectations``), so Data Docs and the quarantine reasons never disagree.

Rules that need more than the row itself: key uniqueness is the ingest job's first-occurrence
step (its reason is :data:`KEY_DUPLICATE_REASON`); a steward's ``unique`` rule needs every row
of the batch, not one slice, so the caller evaluates :attr:`RuleSet.batch_rules` itself;
references to a base library need a lookup in the base table, whose result (a boolean array
per reference rule, true where the value was found) ``reference_checks`` reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog.domain import DataType
from checks.errors import BadRule
from checks.identifiers import as_array, region_valid, ric_valid, uscc_valid
from checks.plan import ItemSpec
from checks.standardise import typed

DEFAULT_THRESHOLD = 0.99
"""质检入库率: the pass rate a batch must reach to be published, unless the resource says."""

KEY_DUPLICATE_REASON = "主键重复 (duplicate key)"
"""The ingest job's duplicate-key reason once its "与第 N 行重复" part is stripped."""

# Dates that lie in the future by nature; every other dated item records something that
# has happened, so a date after today is an error (same list as the synthetic generator's).
FUTURE_ALLOWED = ("有效期至", "有效期", "资格有效期", "截止日期", "到期日期")
PERIOD_SUFFIXES = ("月份", "所属期")
PERIOD_PATTERN = r"^[0-9]{4}(0[1-9]|1[0-2])$"
# National code lists the platform knows without a steward entering them.
STANDARD_CODE_LISTS: dict[str, tuple[str, ...]] = {
    "纳税信用等级": ("A", "B", "M", "C", "D"),  # 纳税信用管理办法: A, B, M, C, D
}
NUMERIC_TYPES = (DataType.NUMBER, DataType.DOUBLE, DataType.FLOAT, DataType.MONEY, DataType.INTEGER)

GENERATED = "generated"
STEWARD = "steward"
REFERENCE = "reference"


# ---- what a steward may ask for -------------------------------------------------------------


@dataclass(frozen=True)
class StewardKind:
    """One whitelisted kind of steward expectation: its parameters and its GE expectation."""

    name: str
    label: str
    params: tuple[str, ...]
    expectation: str


STEWARD_KINDS: dict[str, StewardKind] = {
    k.name: k
    for k in (
        StewardKind("not_null", "不能为空 (not null)", (), "ExpectColumnValuesToNotBeNull"),
        StewardKind(
            "between", "取值范围 (between)", ("min", "max"), "ExpectColumnValuesToBeBetween"
        ),
        StewardKind(
            "in_set", "取值应在代码表中 (in set)", ("values",), "ExpectColumnValuesToBeInSet"
        ),
        StewardKind(
            "not_in_set",
            "取值不应在列表中 (not in set)",
            ("values",),
            "ExpectColumnValuesToNotBeInSet",
        ),
        StewardKind("regex", "应符合格式 (regex)", ("pattern",), "ExpectColumnValuesToMatchRegex"),
        StewardKind(
            "length", "长度范围 (length)", ("min", "max"), "ExpectColumnValueLengthsToBeBetween"
        ),
        StewardKind("unique", "取值唯一 (unique)", (), "ExpectColumnValuesToBeUnique"),
    )
}


def check_steward_params(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a steward rule, validated; never SQL, never code, only values."""
    spec = STEWARD_KINDS.get(kind)
    if spec is None:
        raise BadRule(
            f"不支持的规则类型 {kind}，可用：{', '.join(STEWARD_KINDS)} (kind not whitelisted)"
        )
    unknown = set(params) - set(spec.params)
    if unknown:
        raise BadRule(f"规则 {kind} 不接受参数 {sorted(unknown)} (unknown parameters)")
    clean: dict[str, Any] = {}
    if kind in ("between", "length"):
        low, high = params.get("min"), params.get("max")
        if low is None and high is None:
            raise BadRule(f"规则 {kind} 需要 min 或 max (min or max required)")
        for name, value in (("min", low), ("max", high)):
            if value is None:
                continue
            if kind == "length" and (isinstance(value, bool) or not isinstance(value, int)):
                raise BadRule(f"长度 {name} 应为整数 (integer required)")
            if kind == "between" and (
                isinstance(value, bool) or not isinstance(value, int | float | str)
            ):
                raise BadRule(f"取值范围 {name} 应为数值或日期 (number or date required)")
            if isinstance(value, str):
                try:
                    date.fromisoformat(value)
                except ValueError:
                    raise BadRule(f"取值范围 {name} 应为数值或 YYYY-MM-DD 日期") from None
            clean[name] = value
        if low is not None and high is not None and type(low) is type(high) and low > high:
            raise BadRule("min 大于 max (min greater than max)")
    elif kind in ("in_set", "not_in_set"):
        values = params.get("values")
        if (
            not isinstance(values, list)
            or not values
            or len(values) > 10_000
            or not all(isinstance(v, str) and 0 < len(v) <= 200 for v in values)
        ):
            raise BadRule("values 应为非空的文本列表 (a non-empty list of strings)")
        clean["values"] = sorted(set(values))
    elif kind == "regex":
        pattern = params.get("pattern")
        if not isinstance(pattern, str) or not 0 < len(pattern) <= 300:
            raise BadRule("pattern 应为 1 到 300 个字符的正则表达式 (regex required)")
        try:
            re.compile(pattern)
            # The rules run on RE2 (pyarrow), which refuses e.g. look-arounds.
            pc.match_substring_regex(pa.array([""]), pattern)
        except (re.error, pa.ArrowInvalid):
            raise BadRule("pattern 不是有效的正则表达式 (invalid regex)") from None
        clean["pattern"] = pattern
    return clean


def check_patterns(ruleset: RuleSet) -> None:
    """Refuse, before any task starts, a format or regex rule RE2 cannot compile.

    Rules stored before the rules ran on RE2 were only checked with Python's ``re``, and a
    profile's format pattern is free text; inside a Spark task the error would fail the
    whole job without naming the rule.
    """
    for rule in ruleset.rules:
        if rule.kind in ("format", "regex"):
            try:
                pc.match_substring_regex(pa.array([""]), rule.kwargs["regex"])
            except pa.ArrowInvalid:
                raise BadRule(
                    f"规则 {rule.id} 的正则表达式无法使用（不支持环视、反向引用），请修改后重试 "
                    f"(regex of rule {rule.id} is not RE2: no look-arounds or back-references)"
                ) from None


def steward_label(kind: str, params: Mapping[str, Any]) -> str:
    """A Chinese description of a steward rule, shown in reasons and reports."""
    if kind == "between":
        return f"取值应在 {params.get('min', '-∞')} 与 {params.get('max', '+∞')} 之间 (between)"
    if kind == "length":
        return f"长度应在 {params.get('min', 0)} 与 {params.get('max', '∞')} 之间 (length)"
    if kind == "in_set":
        shown = "、".join(params["values"][:5]) + ("…" if len(params["values"]) > 5 else "")
        return f"取值应为 {shown} 之一 (in set)"
    if kind == "not_in_set":
        return f"取值不应为 {'、'.join(params['values'][:5])} (not in set)"
    if kind == "regex":
        return f"应符合格式 {params['pattern']} (regex)"
    return STEWARD_KINDS[kind].label


# ---- the rule model ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A base library table that values of an item must exist in (one extra join)."""

    kind: str  # uscc | ric
    library: str  # 法人 | 人口
    resource_code: str
    table: str  # the base resource's lake table (validated layer)
    key: str  # the base table's key item


@dataclass(frozen=True)
class Rule:
    """One expectation on one data item, with its Arrow failed condition and GE form."""

    id: str
    kind: str
    item: str
    label: str
    expectation: str
    kwargs: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    origin: str = GENERATED
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    reference: Reference | None = None

    @property
    def reason(self) -> str:
        """What a quarantined row carries; names the item and the rule, never the value."""
        if self.kind == "unique_key":
            return KEY_DUPLICATE_REASON
        return f"{self.item}：{self.label}"

    def ge_kwargs(self) -> dict[str, Any]:
        if self.kind == "unique_key":
            return dict(self.kwargs)
        return {"column": self.item, **self.kwargs}

    def describe(self) -> dict[str, Any]:
        """A JSON-able description, as reports and the API show it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "item": self.item,
            "label": self.label,
            "origin": self.origin,
            "expectation": self.expectation,
            "kwargs": self.ge_kwargs(),
        }


def _rule(item: str, kind: str, label: str, expectation: str, **kwargs: Any) -> Rule:
    return Rule(
        id=f"{kind}:{item}",
        kind=kind,
        item=item,
        label=label,
        expectation=expectation,
        kwargs=kwargs,
    )


def generated_rules(
    item: ItemSpec, *, today: date, standards: Mapping[str, Any] | None = None
) -> list[Rule]:
    """What the catalogue's description of an item implies.

    Required, type and length follow 数据类型 and 数据长度; identifiers follow GB 32100,
    GB 11643 and GB/T 2260; the item's code list (代码表) and format come from the resource's
    quality profile or the national lists above; dated events may not lie in the future,
    money may not be negative. Labels of the first six match the ingest job's reasons word for
    word, so counts recorded before and after the gate compare.
    """
    name, kind = item.name, item.data_type
    standards = standards or {}
    rules: list[Rule] = []
    if item.required:
        rules.append(
            _rule(
                name,
                "required",
                "必填项为空 (required value missing)",
                "ExpectColumnValuesToNotBeNull",
            )
        )
    rules.append(
        _rule(
            name,
            "type",
            f"不是有效的{kind.label} (not a valid {kind.name})",
            "ExpectColumnValuesToMatchCatalogueType",
            data_type=kind.value,
        )
    )
    if item.length and kind in (DataType.CHAR, DataType.MEMO):
        rules.append(
            _rule(
                name,
                "length",
                f"超过长度 {item.length} (too long)",
                "ExpectColumnValueLengthsToBeBetween",
                max_value=item.length,
            )
        )
    if item.identifier == "uscc":
        rules.append(
            _rule(
                name, "uscc", "统一社会信用代码格式或校验位错误", "ExpectColumnValuesToBeValidUscc"
            )
        )
    elif item.identifier == "ric":
        rules.append(
            _rule(
                name,
                "ric",
                "身份证号格式、出生日期、地区码或校验位错误",
                "ExpectColumnValuesToBeValidRic",
            )
        )
    elif item.identifier == "region":
        rules.append(
            _rule(name, "region", "行政区划代码不存在", "ExpectColumnValuesToBeValidRegionCode")
        )
    codes = standards.get("codes") or STANDARD_CODE_LISTS.get(name)
    if codes:
        rules.append(
            _rule(
                name,
                "code_list",
                "不在代码表中 (not in code list)",
                "ExpectColumnValuesToBeInSet",
                value_set=sorted(codes),
            )
        )
    pattern = standards.get("pattern") or (
        PERIOD_PATTERN if kind is DataType.CHAR and name.endswith(PERIOD_SUFFIXES) else None
    )
    if pattern:
        rules.append(
            _rule(
                name,
                "format",
                "不符合规定格式 (does not match the format)",
                "ExpectColumnValuesToMatchRegex",
                regex=pattern,
            )
        )
    if kind in (DataType.DATE, DataType.DATETIME) and not name.endswith(FUTURE_ALLOWED):
        rules.append(
            _rule(
                name,
                "not_future",
                "日期晚于当天 (date in the future)",
                "ExpectColumnValuesToNotBeInTheFuture",
            )
        )
    if kind is DataType.INTEGER and name.endswith("年度"):
        year = today.year
        rules.append(
            _rule(
                name,
                "year_not_future",
                "年度晚于当年 (year in the future)",
                "ExpectColumnValuesToBeBetween",
                max_value=year,
            )
        )
    if kind is DataType.MONEY:
        rules.append(
            _rule(
                name,
                "non_negative",
                "金额为负 (negative amount)",
                "ExpectColumnValuesToBeBetween",
                min_value=0,
            )
        )
    return rules


def steward_rule(
    *, rule_id: int, item: str, kind: str, params: Mapping[str, Any], label: str
) -> Rule:
    """A stored steward rule as a :class:`Rule`; its id carries the catalogue row id."""
    spec = STEWARD_KINDS[kind]
    kwargs: dict[str, Any] = {}
    if kind in ("between", "length"):
        if "min" in params:
            kwargs["min_value"] = params["min"]
        if "max" in params:
            kwargs["max_value"] = params["max"]
    elif kind in ("in_set", "not_in_set"):
        kwargs["value_set"] = list(params["values"])
    elif kind == "regex":
        kwargs["regex"] = params["pattern"]
    return Rule(
        id=f"steward{rule_id}:{kind}:{item}",
        kind=kind,
        item=item,
        # The row id keeps two stewards' similar rules apart in the reasons.
        label=f"{label or steward_label(kind, params)} [规则{rule_id}]",
        expectation=spec.expectation,
        kwargs=kwargs,
        origin=STEWARD,
        params=dict(params),
    )


def reference_rule(item: str, reference: Reference) -> Rule:
    what = "统一社会信用代码" if reference.kind == "uscc" else "身份证号"
    return Rule(
        id=f"reference:{item}",
        kind="reference",
        item=item,
        label=f"{reference.library}库中不存在该{what} (not in the {reference.library} base table)",
        expectation="ExpectColumnValuesToExistInBaseTable",
        kwargs={"base_table": reference.table, "base_key": reference.key},
        origin=REFERENCE,
        reference=reference,
    )


def key_rule(keys: Iterable[str]) -> Rule:
    columns = list(keys)
    return Rule(
        id="unique_key:" + "+".join(columns),
        kind="unique_key",
        item="+".join(columns),
        label="主键重复 (duplicate key)",
        expectation="ExpectCompoundColumnsToBeUnique"
        if len(columns) > 1
        else "ExpectColumnValuesToBeUnique",
        kwargs={"column_list": columns} if len(columns) > 1 else {"column": columns[0]},
    )


# ---- failed conditions over Arrow arrays ---------------------------------------------------

BATCH_KINDS = ("unique",)
"""Kinds judged over a whole batch (every occurrence of a repeated value fails), not per row."""


def _any(conditions: list[pa.Array], length: int) -> pa.BooleanArray:
    """Kleene OR, as Spark's ``F.lit(False) | a | b``: a null with no true stays null."""
    if not conditions:
        return pa.array(np.zeros(length, dtype=bool))
    out = conditions[0]
    for condition in conditions[1:]:
        out = pc.or_kleene(out, condition)
    return out


def _bound(bound: Any, value_type: pa.DataType, *, upper: bool) -> pa.Scalar | None:
    """A rule's min or max as a scalar comparable with the value; None if it cannot be.

    Numbers and ``YYYY-MM-DD`` dates are both allowed by ``check_steward_params`` without
    knowing the item's type; a bound of the wrong sort never fails a row (Spark's cast to
    null did the same).
    """
    if pa.types.is_date(value_type) or pa.types.is_timestamp(value_type):
        if not isinstance(bound, str):
            return None
        day = date.fromisoformat(bound)
        if pa.types.is_date(value_type):
            return pa.scalar(day, type=value_type)
        return pa.scalar(datetime.combine(day, time(), tzinfo=UTC), type=value_type)
    if isinstance(bound, str):
        if pa.types.is_string(value_type):
            return pa.scalar(bound, type=value_type)
        try:
            bound = float(bound)
        except ValueError:
            return None
    if pa.types.is_decimal(value_type):
        return _decimal_bound(Decimal(str(bound)), value_type, upper=upper)
    return pa.scalar(bound)


def _decimal_bound(bound: Decimal, value_type: pa.DataType, *, upper: bool) -> pa.Scalar:
    """The bound in the value's own decimal type, without changing any comparison's result.

    Values are multiples of 10**-scale below 10**(precision - scale): a lower bound rounds up
    and an upper bound down to that step (v < 0.001 holds exactly when v < 0.01), and bounds
    beyond the range clamp to its edge. Arrow would otherwise widen both sides past 38 digits.
    """
    precision, scale = value_type.precision, value_type.scale
    edge = Decimal(10) ** (precision - scale)
    clamped = min(max(bound, -edge), edge)
    step = Decimal(1).scaleb(-scale)
    exact = clamped.quantize(step, rounding=ROUND_FLOOR if upper else ROUND_CEILING)
    return pa.scalar(exact, type=pa.decimal128(precision + 1, scale))


def _numeric(value: pa.Array) -> pa.Array:
    """A text value as a number, for a numeric range on a text item (unparsed: null)."""
    return typed(ItemSpec("value", DataType.NUMBER, None, False, False, None), value)


def _range(rule: Rule, value: pa.Array) -> pa.BooleanArray:
    conditions = []
    for name, compare in (("min_value", pc.less), ("max_value", pc.greater)):
        bound = rule.kwargs.get(name)
        if bound is None:
            continue
        compared = value
        if pa.types.is_string(value.type) and not isinstance(bound, str):
            compared = _numeric(value)
        scalar = _bound(bound, compared.type, upper=name == "max_value")
        if scalar is None:
            conditions.append(pa.nulls(len(value), pa.bool_()))
            continue
        try:
            conditions.append(compare(compared, scalar))
        except pa.ArrowNotImplementedError:
            raise BadRule(f"规则 {rule.id} 的取值范围不适用于该数据项的类型 (no order)") from None
    return _any(conditions, len(value))


def _as_date(value: pa.Array) -> pa.Array:
    if pa.types.is_date32(value.type):
        return value
    if pa.types.is_string(value.type):
        return typed(ItemSpec("value", DataType.DATE, None, False, False, None), value)
    return pc.cast(value, pa.date32())


def failed_condition(
    rule: Rule, text: pa.Array, value: pa.Array, *, today: date, found: pa.Array | None = None
) -> pa.BooleanArray:
    """True where the row breaks ``rule`` (null counts as passed, as in ``error_list``).

    ``text`` is the item's standardised text, ``value`` its typed value; ``found`` (reference
    rules only) is true where the value exists in the base table.
    """
    text, value = as_array(text), as_array(value)
    kind, kw = rule.kind, rule.kwargs
    if kind in ("required", "not_null"):
        return pc.is_null(text)
    if kind == "type":
        return pc.and_(pc.is_valid(text), pc.is_null(value))
    if kind == "length":
        length = pc.utf8_length(text)
        conditions = []
        if kw.get("min_value") is not None:
            conditions.append(pc.less(length, kw["min_value"]))
        if kw.get("max_value") is not None:
            conditions.append(pc.greater(length, kw["max_value"]))
        return _any(conditions, len(text))
    if kind == "uscc":
        return pc.invert(uscc_valid(text))
    if kind == "ric":
        return pc.invert(ric_valid(text, today=today))
    if kind == "region":
        return pc.invert(region_valid(text))
    if kind in ("code_list", "in_set"):
        members = pa.array(list(kw["value_set"]), type=pa.string())
        return pc.and_(pc.is_valid(text), pc.invert(pc.is_in(text, value_set=members)))
    if kind == "not_in_set":
        return pc.is_in(text, value_set=pa.array(list(kw["value_set"]), type=pa.string()))
    if kind in ("format", "regex"):
        try:
            matches = pc.match_substring_regex(text, kw["regex"])
        except pa.ArrowInvalid:
            raise BadRule(f"规则 {rule.id} 的正则表达式无效 (invalid regex)") from None
        return pc.and_kleene(pc.is_valid(text), pc.invert(matches))
    if kind == "not_future":
        return pc.greater(_as_date(value), pa.scalar(today, type=pa.date32()))
    if kind in ("year_not_future", "non_negative", "between"):
        return _range(rule, value)
    if kind == "reference":
        if found is None:
            raise BadRule(f"规则 {rule.id} 需要基础库查询结果 (reference lookup missing)")
        applies = pc.is_valid(text)
        if rule.reference is not None and rule.reference.kind == "uscc":
            # The 法人 base table holds enterprises (机构类别 91); others register elsewhere.
            applies = pc.and_(applies, pc.fill_null(pc.starts_with(text, "91"), False))
        return pc.and_(applies, pc.invert(pc.fill_null(as_array(found), False)))
    raise BadRule(f"规则 {rule.id} 没有行级条件 (no row condition)")


# ---- a resource's rules, as the ingest job uses them ------------------------------------


@dataclass(frozen=True)
class RuleSet:
    """Every rule of one resource, plain data a worker process can carry with the plan."""

    resource_code: str
    resource_name: str
    provider_code: str
    table: str
    items: tuple[ItemSpec, ...]
    keys: tuple[str, ...]
    rules: tuple[Rule, ...]
    threshold: float = DEFAULT_THRESHOLD
    # The run's date ("not in the future"), given by the job: a re-run with the same date
    # judges every row alike, whatever day it runs on. Nothing below the jobs reads a clock.
    today: date = field(kw_only=True)
    # item -> privacy.masking kind for failure samples; items not listed are not personal.
    masks: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def item_rules(self, name: str) -> list[Rule]:
        return [
            r for r in self.rules if r.item == name and r.kind not in ("reference", "unique_key")
        ]

    @property
    def reference_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.kind == "reference"]

    @property
    def batch_rules(self) -> list[Rule]:
        """Rules the caller judges over the whole batch (a slice cannot see every repeat)."""
        return [r for r in self.rules if r.kind in BATCH_KINDS]

    def item_checks(
        self, item: ItemSpec, text: pa.Array, value: pa.Array
    ) -> list[tuple[pa.BooleanArray, str]]:
        """Drop-in for ``checks.standardise.item_checks``: every row rule of the item."""
        today = self.today
        return [
            (failed_condition(r, text, value, today=today), r.reason)
            for r in self.item_rules(item.name)
            if r.kind not in BATCH_KINDS
        ]

    def reference_checks(
        self, text_of: Callable[[str], pa.Array], found: Mapping[str, pa.Array]
    ) -> list[tuple[pa.BooleanArray, str]]:
        """Conditions over the base-table lookups; ``found`` maps rule id to "value found"."""
        today = self.today
        checks = []
        for rule in self.reference_rules:
            text = text_of(rule.item)
            condition = failed_condition(rule, text, text, today=today, found=found[rule.id])
            checks.append((condition, rule.reason))
        return checks

    def rule_for_reason(self, reason: str) -> Rule | None:
        return self._by_reason().get(reason)

    def _by_reason(self) -> dict[str, Rule]:
        return {r.reason: r for r in self.rules}

    def counts_from_reasons(self, reasons: Mapping[str, int]) -> dict[str, int]:
        """Failing rows per rule id from the ingest summary's reason counts (0 for the rest)."""
        by_reason = self._by_reason()
        counts = {r.id: 0 for r in self.rules}
        for reason, count in reasons.items():
            rule = by_reason.get(reason)
            key = rule.id if rule is not None else f"other:{reason}"
            counts[key] = counts.get(key, 0) + int(count)
        return counts

    def describe(self) -> list[dict[str, Any]]:
        return [r.describe() for r in self.rules]


def build_ruleset(
    *,
    resource_code: str,
    resource_name: str,
    provider_code: str,
    table: str,
    items: Iterable[ItemSpec],
    keys: Iterable[str],
    standards: Mapping[str, Mapping[str, Any]] | None = None,
    steward: Iterable[Rule] = (),
    references: Mapping[str, Reference] | None = None,
    threshold: float | None = None,
    today: date,
    masks: Mapping[str, str] | None = None,
) -> RuleSet:
    """Generated rules item by item, then stewards', then references, then key uniqueness."""
    items = tuple(items)
    keys = tuple(keys)
    steward = list(steward)
    rules: list[Rule] = []
    for item in items:
        rules.extend(generated_rules(item, standards=(standards or {}).get(item.name), today=today))
        rules.extend(r for r in steward if r.item == item.name)
    for item_name, reference in (references or {}).items():
        rules.append(reference_rule(item_name, reference))
    if keys:
        rules.append(key_rule(keys))
    return RuleSet(
        resource_code=resource_code,
        resource_name=resource_name,
        provider_code=provider_code,
        table=table,
        items=items,
        keys=keys,
        rules=tuple(rules),
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        today=today,
        masks=dict(masks or {}),
    )
