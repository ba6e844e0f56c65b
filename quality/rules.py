"""Quality rules (质检规则): generated from the catalogue's data items or added by stewards.

A :class:`Rule` has a stable id, a Chinese label (English beside it), the Great Expectations
expectation it corresponds to (class name and kwargs) and a failed condition as a Spark
column expression over the item's standardised text and typed value. The ingest job adds
``RuleSet.item_checks`` and ``RuleSet.reference_checks`` to the ``(Column, reason)`` pairs it
already folds into ``_errors``, so every rule is evaluated in the job's one pass over the
batch; nothing is collected to the driver. The same rules build the GE suite
(``quality.expectations``), so Data Docs and the quarantine reasons never disagree.

Rules that need more than the row itself: key uniqueness is the ingest job's first-occurrence
window (its reason is :data:`KEY_DUPLICATE_REASON`); references to a base library need the
one extra join of ``quality.references.with_references``, which adds a boolean column per
reference rule that ``reference_checks`` reads.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from catalog.domain import DataType
from pipelines.checks import region_valid, ric_valid, uscc_valid
from pipelines.plan import ItemSpec
from quality.errors import BadRule

if TYPE_CHECKING:
    from pyspark.sql import Column

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
        except re.error:
            raise BadRule("pattern 不是有效的正则表达式 (invalid regex)") from None
        clean["pattern"] = pattern
    return clean


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
    """One expectation on one data item, with its Spark failed condition and GE form."""

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

    @property
    def marker(self) -> str:
        """The boolean column ``with_references`` adds for this rule (true: value found)."""
        return "__ref_" + hashlib.sha1(self.id.encode()).hexdigest()[:10]

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
    item: ItemSpec, *, standards: Mapping[str, Any] | None = None, today: date | None = None
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
        year = (today or date.today()).year
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


# ---- failed conditions as Spark columns ---------------------------------------------------


def failed_condition(rule: Rule, text: Column, value: Column, *, today: Column) -> Column:
    """True when the row breaks ``rule`` (null counts as passed, as in ``error_list``)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    kind, kw = rule.kind, rule.kwargs
    if kind in ("required", "not_null"):
        return text.isNull()
    if kind == "type":
        return text.isNotNull() & value.isNull()
    if kind == "length":
        length = F.char_length(text)
        low, high = kw.get("min_value"), kw.get("max_value")
        out = F.lit(False)
        if low is not None:
            out = out | (length < low)
        if high is not None:
            out = out | (length > high)
        return out
    if kind == "uscc":
        return ~uscc_valid(text)
    if kind == "ric":
        return ~ric_valid(text, today=today)
    if kind == "region":
        return ~region_valid(text)
    if kind in ("code_list", "in_set"):
        return text.isNotNull() & ~text.isin(list(kw["value_set"]))
    if kind == "not_in_set":
        return text.isin(list(kw["value_set"]))
    if kind in ("format", "regex"):
        return text.isNotNull() & ~text.rlike(kw["regex"])
    if kind == "not_future":
        return value.cast("date") > today
    if kind in ("year_not_future", "non_negative", "between"):
        low, high = kw.get("min_value"), kw.get("max_value")
        out = F.lit(False)
        if low is not None:
            out = out | (value < F.lit(low))
        if high is not None:
            out = out | (value > F.lit(high))
        return out
    if kind == "unique":
        # A window over the value: every occurrence of a repeated value fails.
        return value.isNotNull() & (F.count(F.lit(1)).over(Window.partitionBy(value)) > 1)
    if kind == "reference":
        applies = text.isNotNull()
        if rule.reference is not None and rule.reference.kind == "uscc":
            # The 法人 base table holds enterprises (机构类别 91); others register elsewhere.
            applies = applies & text.startswith("91")
        return applies & ~F.coalesce(F.col(rule.marker), F.lit(False))
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
    today: date | None = None  # fixed "today" for reproducible re-runs; None: Spark's current_date
    # item -> privacy.masking kind for failure samples; items not listed are not personal.
    masks: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def _today(self) -> Column:
        from pyspark.sql import functions as F

        return F.lit(self.today) if self.today is not None else F.current_date()

    def item_rules(self, name: str) -> list[Rule]:
        return [
            r for r in self.rules if r.item == name and r.kind not in ("reference", "unique_key")
        ]

    @property
    def reference_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.kind == "reference"]

    def item_checks(self, item: ItemSpec, text: Column, value: Column) -> list[tuple[Column, str]]:
        """Drop-in for ``pipelines.standardise.item_checks``: every row rule of the item."""
        today = self._today()
        return [
            (failed_condition(r, text, value, today=today), r.reason)
            for r in self.item_rules(item.name)
        ]

    def reference_checks(self, text_of: Callable[[str], Column]) -> list[tuple[Column, str]]:
        """Conditions over the marker columns ``with_references`` added to the frame."""
        today = self._today()
        return [
            (failed_condition(r, text_of(r.item), text_of(r.item), today=today), r.reason)
            for r in self.reference_rules
        ]

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
    today: date | None = None,
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
