"""Standardising and type-checking source columns as Spark expressions.

Departments send full-width digits, padded text, dates in half a dozen spellings (2024年3月5日,
2024/3/5, Excel serial numbers) and lower-case x in ID numbers. Each rule here is a column
expression evaluated in the JVM; each failed check yields a reason naming the data item and
the rule, never the value (it may be personal data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catalog.domain import DataType
from pipelines.checks import region_valid, ric_valid, uscc_valid
from pipelines.plan import ItemSpec

if TYPE_CHECKING:
    from pyspark.sql import Column

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map onto ASCII.
FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
HALF_WIDTH = "".join(chr(c) for c in range(0x21, 0x7F)) + " "

PADDING = " \t\r\n\u00a0"

SPARK_TYPES = {
    DataType.CHAR: "string",
    DataType.MEMO: "string",
    DataType.GENERAL: "string",
    DataType.NUMBER: "double",
    DataType.DOUBLE: "double",
    DataType.FLOAT: "double",
    DataType.MONEY: "decimal(20,2)",
    DataType.INTEGER: "bigint",
    DataType.DATE: "date",
    DataType.DATETIME: "timestamp",
    DataType.LOGICAL: "boolean",
}
DATE_PATTERNS = (
    "yyyy-M-d",
    "yyyy/M/d",
    "yyyyMMdd",
    "yyyy年M月d日",
    "yyyy.M.d",
    "yyyy-M-d HH:mm:ss",
)
TIMESTAMP_PATTERNS = (
    "yyyy-M-d HH:mm:ss",
    "yyyy/M/d HH:mm:ss",
    "yyyy-M-d'T'HH:mm:ss",
    "yyyy年M月d日 HH:mm:ss",
    "yyyy-M-d",
)
TRUE_WORDS = ("是", "true", "t", "y", "yes", "1")
FALSE_WORDS = ("否", "false", "f", "n", "no", "0")


def clean_text(column: Column) -> Column:
    """Full-width to half-width, trimmed, empty as null."""
    from pyspark.sql import functions as F

    # Translating costs a decode per value; pure-ASCII values (codes, dates, amounts: most
    # of a file) have as many characters as bytes and cannot hold a full-width character.
    ascii_only = F.char_length(column) == F.octet_length(column)
    half = F.when(ascii_only, column).otherwise(F.translate(column, FULL_WIDTH, HALF_WIDTH))
    # Spaces, tabs and line breaks at either end (F.trim strips spaces only; extracts pad with
    # tabs, which then showed up in themes as false conflicts).
    text = F.btrim(half, F.lit(PADDING))
    return F.when(text == "", None).otherwise(text)


def parse_date(text: Column) -> Column:
    from pyspark.sql import functions as F

    excel_serial = F.when(
        text.rlike(r"^[0-9]{1,5}(\.0+)?$"),
        F.date_add(F.lit("1899-12-30").cast("date"), text.cast("double").cast("int")),
    )
    return F.coalesce(*(F.to_date(text, p) for p in DATE_PATTERNS), excel_serial)


def parse_timestamp(text: Column) -> Column:
    from pyspark.sql import functions as F

    return F.coalesce(*(F.to_timestamp(text, p) for p in TIMESTAMP_PATTERNS))


def typed(item: ItemSpec, text: Column) -> Column:
    """The standardised text cast to the catalogue type (null when it does not parse)."""
    from pyspark.sql import functions as F

    kind = item.data_type
    if kind is DataType.DATE:
        return parse_date(text)
    if kind is DataType.DATETIME:
        return parse_timestamp(text)
    if kind is DataType.LOGICAL:
        lowered = F.lower(text)
        return F.when(lowered.isin(*TRUE_WORDS), True).when(lowered.isin(*FALSE_WORDS), False)
    if kind in (DataType.NUMBER, DataType.DOUBLE, DataType.FLOAT, DataType.MONEY, DataType.INTEGER):
        number = F.regexp_replace(text, ",", "")
        if kind is DataType.INTEGER:
            return F.when(
                number.rlike(r"^[+-]?[0-9]+(\.0+)?$"), number.cast("double").cast("bigint")
            )
        return number.cast(SPARK_TYPES[kind])
    return text


def standardised_text(item: ItemSpec, column: Column) -> Column:
    from pyspark.sql import functions as F

    text = clean_text(column)
    if item.identifier in ("uscc", "ric"):
        text = F.upper(text)
    return text


def item_checks(item: ItemSpec, text: Column, value: Column) -> list[tuple[Column, str]]:
    """(failed condition, reason) pairs for one data item."""
    from pyspark.sql import functions as F

    checks: list[tuple[Column, str]] = []
    if item.required:
        checks.append((text.isNull(), f"{item.name}：必填项为空 (required value missing)"))
    checks.append(
        (
            text.isNotNull() & value.isNull(),
            f"{item.name}：不是有效的{item.data_type.label} (not a valid {item.data_type.name})",
        )
    )
    if item.length and item.data_type in (DataType.CHAR, DataType.MEMO):
        checks.append(
            (F.char_length(text) > item.length, f"{item.name}：超过长度 {item.length} (too long)")
        )
    if item.identifier == "uscc":
        checks.append((~uscc_valid(text), f"{item.name}：统一社会信用代码格式或校验位错误"))
    elif item.identifier == "ric":
        checks.append(
            (~ric_valid(text), f"{item.name}：身份证号格式、出生日期、地区码或校验位错误")
        )
    elif item.identifier == "region":
        checks.append((~region_valid(text), f"{item.name}：行政区划代码不存在"))
    return checks


def error_list(checks: list[tuple[Column, str]]) -> Column:
    """An array of the reasons whose condition holds (null conditions count as passed)."""
    from pyspark.sql import functions as F

    if not checks:
        return F.array().cast("array<string>")
    return F.array_compact(
        F.array(*(F.when(F.coalesce(cond, F.lit(False)), F.lit(reason)) for cond, reason in checks))
    )
