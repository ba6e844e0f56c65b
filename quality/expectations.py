"""Great Expectations 1.x: the suite built from a resource's rules, results and Data Docs.

Which path produces the validation result, and why (measured by ``bench/quality.py``):
GE's Spark engine resolves metrics expectation by expectation, and naming failing rows needs
``result_format=COMPLETE`` with a further pass each; over a million rows and about twenty
expectations that costs many times one plain scan. So the gate counts failures per rule in the
ingest job's single pass (``quality.evaluate``) and this module builds GE's own
``ExpectationSuiteValidationResult`` from those counts, then renders Data Docs with GE's
renderers. :func:`validate_with_ge` still runs GE's engine on a frame, for the benchmark and for
tests that check the two agree.

The national identifiers, the catalogue type check, dates not in the future and base-library
references have no built-in expectation; they are custom expectations below whose pandas
conditions call the very Arrow functions the gate evaluates.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks.rules import Rule, RuleSet
from infra.settings import Settings
from quality.docs_assets import docs_root, localise
from quality.page_style import BASE_CSS

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from great_expectations import ExpectationSuite
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )
    from great_expectations.expectations.expectation import Expectation

_CUSTOM: dict[str, type[Expectation]] = {}


def _custom_expectations() -> dict[str, type[Expectation]]:
    """Define (once) the custom expectations; GE is imported only when needed (5 s).

    Their metrics run on GE's pandas engine and call the same Arrow functions the ingest job
    evaluates, so GE and the gate cannot judge a value differently.
    """
    if _CUSTOM:
        return _CUSTOM

    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics import (
        ColumnMapMetricProvider,
        column_condition_partial,
    )

    from catalog.domain import DataType
    from checks.identifiers import region_valid, ric_valid, uscc_valid
    from checks.plan import ItemSpec
    from checks.standardise import clean_text, typed

    def spec(data_type: str) -> ItemSpec:
        return ItemSpec("v", DataType(data_type), None, False, False, None)

    def text(column: pd.Series) -> pa.Array:
        """The column as cleaned Arrow text (object columns may mix str, int, Decimal)."""
        values = column.astype(object).where(column.notna(), None)
        try:
            array = pa.array(values, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            array = pa.array([None if v is None else str(v) for v in values], type=pa.string())
        return clean_text(array)

    def ok(column: pd.Series, condition: pa.Array) -> pd.Series:
        """Back to pandas, aligned with the column; a null condition passes."""
        passed = pc.fill_null(condition, True).to_numpy(zero_copy_only=False)
        return pd.Series(passed, index=column.index, dtype=bool)

    class CatalogueTypeMetric(ColumnMapMetricProvider):
        condition_metric_name = "column_values.govshare_catalogue_type"
        condition_value_keys = ("data_type",)

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, data_type: str, **_: Any) -> pd.Series:
            values = text(column)
            failed = pc.and_(pc.is_valid(values), pc.is_null(typed(spec(data_type), values)))
            return ok(column, pc.invert(failed))

    class UsccMetric(ColumnMapMetricProvider):
        condition_metric_name = "column_values.govshare_valid_uscc"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, **_: Any) -> pd.Series:
            return ok(column, uscc_valid(pc.utf8_upper(text(column))))

    class RicMetric(ColumnMapMetricProvider):
        condition_metric_name = "column_values.govshare_valid_ric"
        condition_value_keys = ("today",)

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, today: str, **_: Any) -> pd.Series:
            day = date.fromisoformat(today)
            return ok(column, ric_valid(pc.utf8_upper(text(column)), today=day))

    class RegionMetric(ColumnMapMetricProvider):
        condition_metric_name = "column_values.govshare_valid_region"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, **_: Any) -> pd.Series:
            return ok(column, region_valid(text(column)))

    class NotFutureMetric(ColumnMapMetricProvider):
        condition_metric_name = "column_values.govshare_not_future"
        condition_value_keys = ("today",)

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, today: str, **_: Any) -> pd.Series:
            day = typed(spec(DataType.DATE.value), text(column))
            limit = pa.scalar(date.fromisoformat(today), pa.date32())
            return ok(column, pc.less_equal(day, limit))

    class ExpectColumnValuesToMatchCatalogueType(ColumnMapExpectation):
        """Values parse as the item's catalogue 数据类型 (C, N, Y, D, T, L, M, G, B, I, F)."""

        data_type: str
        map_metric = "column_values.govshare_catalogue_type"
        success_keys = ("data_type", "mostly")

    class ExpectColumnValuesToBeValidUscc(ColumnMapExpectation):
        """统一社会信用代码: shape and check character of GB 32100-2015."""

        map_metric = "column_values.govshare_valid_uscc"

    class ExpectColumnValuesToBeValidRic(ColumnMapExpectation):
        """公民身份号码: region, real past birth date, check digit of GB 11643-1999."""

        today: str  # the run's date (ISO): a birth date after it is not real
        map_metric = "column_values.govshare_valid_ric"
        success_keys = ("today", "mostly")

    class ExpectColumnValuesToBeValidRegionCode(ColumnMapExpectation):
        """行政区划代码 that exists in GB/T 2260 (abolished codes included)."""

        map_metric = "column_values.govshare_valid_region"

    class ExpectColumnValuesToNotBeInTheFuture(ColumnMapExpectation):
        """A dated event is not after the run's date (``today``, ISO)."""

        today: str
        map_metric = "column_values.govshare_not_future"
        success_keys = ("today", "mostly")

    class ExpectColumnValuesToExistInBaseTable(ColumnMapExpectation):
        """The value exists in a base library's table (evaluated by the gate's join only)."""

        base_table: str
        base_key: str
        # No metric: GE cannot look into the base table; the gate's lookup computes it.
        map_metric = "column_values.govshare_in_base_table"
        success_keys = ("base_table", "base_key", "mostly")

    for cls in (
        ExpectColumnValuesToMatchCatalogueType,
        ExpectColumnValuesToBeValidUscc,
        ExpectColumnValuesToBeValidRic,
        ExpectColumnValuesToBeValidRegionCode,
        ExpectColumnValuesToNotBeInTheFuture,
        ExpectColumnValuesToExistInBaseTable,
    ):
        _CUSTOM[cls.__name__] = cls
    return _CUSTOM


# Expectations whose condition needs the gate's join; GE's own engine cannot evaluate them.
GE_ONLY_BY_GATE = ("ExpectColumnValuesToExistInBaseTable",)


# Expectations judged against the run's date, passed to them as ``today``.
DATED = ("ExpectColumnValuesToNotBeInTheFuture", "ExpectColumnValuesToBeValidRic")


def expectation_for(rule: Rule, *, today: date) -> Expectation:
    """The GE expectation of one rule, carrying the rule id and Chinese label in ``meta``."""
    import great_expectations.expectations as gxe

    cls = _custom_expectations().get(rule.expectation) or getattr(gxe, rule.expectation)
    kwargs: dict[str, Any] = rule.ge_kwargs()
    if rule.expectation in DATED:
        kwargs["today"] = today.isoformat()
    return cls(  # type: ignore[call-arg]
        **kwargs,
        description=f"{rule.item}：{rule.label}",
        meta={"rule_id": rule.id, "origin": rule.origin},
    )


def suite_for(ruleset: RuleSet) -> ExpectationSuite:
    """The resource's expectation suite, one expectation per rule, in rule order."""
    import great_expectations as gx

    return gx.ExpectationSuite(
        name=suite_name(ruleset.resource_code),
        expectations=[expectation_for(r, today=ruleset.today) for r in ruleset.rules],
        meta={"resource_code": ruleset.resource_code, "threshold": ruleset.threshold},
    )


def suite_name(resource_code: str) -> str:
    return "govshare_" + re.sub(r"[^0-9A-Za-z]+", "_", resource_code)


def validation_result(
    ruleset: RuleSet,
    *,
    batch_id: str,
    rows_read: int,
    counts: dict[str, int],
    samples: dict[str, list[str]] | None = None,
    run_time: datetime,
) -> ExpectationSuiteValidationResult:
    """GE's validation result built from the gate's counts (no second pass over the data).

    ``samples`` maps rule ids to a few masked failing values, shown as GE's
    ``partial_unexpected_list``.
    """
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )

    suite = suite_for(ruleset)
    results = []
    for rule, expectation in zip(ruleset.rules, suite.expectations, strict=True):
        failed = int(counts.get(rule.id, 0))
        percent = 0.0 if rows_read == 0 else 100.0 * failed / rows_read
        results.append(
            ExpectationValidationResult(
                success=failed == 0,
                expectation_config=expectation.configuration,
                result={
                    "element_count": rows_read,
                    "unexpected_count": failed,
                    "unexpected_percent": percent,
                    "unexpected_percent_nonmissing": percent,
                    "missing_count": 0,
                    "missing_percent": 0.0,
                    "partial_unexpected_list": list((samples or {}).get(rule.id, []))[:20],
                },
                meta={"rule_id": rule.id},
            )
        )
    passed = sum(1 for r in results if r.success)
    return ExpectationSuiteValidationResult(
        success=passed == len(results),
        results=results,
        suite_name=suite.name,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results) if results else 100.0,
        },
        meta={
            "great_expectations_version": gx.__version__,
            "run_id": {"run_name": batch_id, "run_time": run_time.isoformat()},
            "active_batch_definition": {
                "datasource_name": "govshare_lake",
                "data_asset_name": ruleset.table,
                "batch_definition_name": batch_id,
                "batch_identifiers": {"batch_id": batch_id},
            },
            "batch_spec": {"resource_code": ruleset.resource_code},
            "batch_markers": {},
        },
        batch_id=batch_id,
    )


def write_data_docs(
    settings: Settings, ruleset: RuleSet, result: ExpectationSuiteValidationResult
) -> Path:
    """Render the validation result with GE's page renderer; refresh the index; the page path.

    Pages go to ``GOVSHARE_HOME/quality/gx/data_docs/<suite>/<batch>.html``; the suite itself
    is saved beside them as JSON (``expectations/<suite>.json``), as a GE file context keeps it.
    """
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    root = docs_root(settings)
    folder = root / result.suite_name
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"{result.batch_id}.html"
    document = ValidationResultsPageRenderer().render(result)
    page.write_text(DefaultJinjaPageView().render(document), encoding="utf-8")
    suites = root.parent / "expectations"
    suites.mkdir(parents=True, exist_ok=True)
    (suites / f"{result.suite_name}.json").write_text(
        json.dumps(suite_for(ruleset).to_json_dict(), ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    if not (root / "index.html").exists():
        _write_index(root)
    localise(root)
    return page


def _write_index(root: Path) -> None:
    """A plain list of the pages, until ``quality.docs_index`` writes the index from the
    catalogue (names, Beijing times, pass rates, decisions) once the verdict is recorded."""
    pages = sorted(root.glob("*/*.html"), key=lambda p: p.stat().st_mtime, reverse=True)
    links = "\n".join(
        f'<li><a href="{html.escape(p.relative_to(root).as_posix())}">'
        f"{html.escape(p.parent.name)} / {html.escape(p.stem)}</a></li>"
        for p in pages
    )
    (root / "index.html").write_text(
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>质检报告 Data Docs</title><style>{BASE_CSS}</style></head><body>"
        f"<h1>质检报告 (Data Docs)</h1><ul>{links}</ul></body></html>",
        encoding="utf-8",
    )


VALUE_KINDS = ("between", "year_not_future", "non_negative", "unique")


def validate_with_ge(
    classified: pd.DataFrame | pa.Table, ruleset: RuleSet
) -> ExpectationSuiteValidationResult:
    """Run GE's own pandas engine over a classified frame (``quality.evaluate.classify``).

    Text rules read the item columns; range and uniqueness rules read the typed ``__v_``
    columns. Reference rules are left out (GE cannot look into the base table). Used by the
    benchmark to measure GE's cost and by tests to check that GE and the gate agree.
    """
    import great_expectations as gx
    import pyarrow as pa

    from quality.evaluate import value_column

    frame = classified.to_pandas() if isinstance(classified, pa.Table) else classified
    expectations = []
    for rule in ruleset.rules:
        if rule.expectation in GE_ONLY_BY_GATE or rule.kind == "unique_key":
            continue
        expectation = expectation_for(rule, today=ruleset.today)
        if rule.kind in VALUE_KINDS:
            expectation.column = value_column(rule.item)  # type: ignore[attr-defined]
        expectations.append(expectation)
    suite = gx.ExpectationSuite(name=suite_name(ruleset.resource_code), expectations=expectations)
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_pandas(name="govshare_lake")
    asset = source.add_dataframe_asset(name=ruleset.table)
    definition = asset.add_batch_definition_whole_dataframe("batch")
    batch = definition.get_batch(batch_parameters={"dataframe": frame})
    return batch.validate(suite, result_format="SUMMARY")
