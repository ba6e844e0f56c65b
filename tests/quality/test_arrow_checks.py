"""The row checks and quality rules over Arrow arrays, against python-stdnum; no Spark needed."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from stdnum.cn import ric, uscc

from catalog.domain import DataType
from catalog.identifiers import region_codes
from checks.errors import BadRule
from checks.identifiers import USCC_ALPHABET, region_valid, ric_valid, uscc_valid
from checks.plan import ItemSpec
from checks.rules import (
    Reference,
    Rule,
    build_ruleset,
    check_steward_params,
    failed_condition,
    reference_rule,
    steward_rule,
)
from checks.standardise import (
    ARROW_TYPES,
    clean_text,
    error_list,
    item_checks,
    standardised_text,
    typed,
)

TODAY = date(2026, 3, 3)
USCC_SHAPE = r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}"
REGIONS = sorted(region_codes())


def spec(
    data_type: DataType,
    *,
    name: str = "项",
    identifier: str | None = None,
    length: int | None = None,
    required: bool = False,
) -> ItemSpec:
    return ItemSpec(name, data_type, length, required, False, identifier)


def rule(kind: str, **kwargs: object) -> Rule:
    return Rule(id=f"{kind}:项", kind=kind, item="项", label=kind, expectation="X", kwargs=kwargs)


def strings(*values: str | None) -> pa.Array:
    return pa.array(list(values), type=pa.string())


# ---- generated identifiers ------------------------------------------------------------------


def make_uscc(rng: random.Random) -> str:
    body = (
        "".join(rng.choice(USCC_ALPHABET) for _ in range(2))
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    )
    return body + uscc.calc_check_digit(body)


def make_ric(rng: random.Random) -> str:
    birth = date(1900, 1, 1) + timedelta(days=rng.randrange((TODAY - date(1900, 1, 1)).days + 1))
    body = rng.choice(REGIONS) + birth.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a check place


def corrupt(rng: random.Random, value: str, alphabet: str) -> str | None:
    how = rng.randrange(7)
    position = rng.randrange(len(value))
    if how == 0:
        return value[:position] + rng.choice(alphabet) + value[position + 1 :]
    if how == 1 and position < len(value) - 1:
        return value[:position] + value[position + 1] + value[position] + value[position + 2 :]
    if how == 2:
        return value[:position] + value[position + 1 :]  # 17 characters
    if how == 3:
        return value + rng.choice("0123456789")  # 19 characters
    if how == 4:
        return value[:position] + rng.choice("IOSVZ-中 ") + value[position + 1 :]
    if how == 5:
        return None
    return value.lower()


def uscc_reference(value: str | None) -> bool | None:
    """Shape as GB 32100 allows it (letters in the first two places), stdnum's check character."""
    if value is None:
        return None
    if not re.fullmatch(USCC_SHAPE, value):
        return False
    return value[-1] == uscc.calc_check_digit(value[:17])


def ric_reference(value: str | None) -> bool | None:
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value) or value[:6] not in region_codes():
        return False
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= birth <= TODAY and value[-1] == ric.calc_check_digit(value)


def uscc_sample(seed: int = 7, size: int = 3000) -> list[str | None]:
    rng = random.Random(seed)
    values: list[str | None] = []
    for _ in range(size):
        value = make_uscc(rng)
        values.append(value if rng.random() < 0.5 else corrupt(rng, value, USCC_ALPHABET))
    return values


def ric_sample(seed: int = 11, size: int = 3000) -> list[str | None]:
    rng = random.Random(seed)
    values: list[str | None] = []
    for _ in range(size):
        value = make_ric(rng)
        if rng.random() < 0.5:
            values.append(value)
            continue
        special = rng.randrange(5)
        if special == 0:  # a date that does not exist, is too early, or lies ahead
            birth = rng.choice(("20240230", "20230229", "18991231", "20260304", "20261301"))
            body = value[:6] + birth + value[14:17]
            values.append(body + ric.calc_check_digit(body + "0"))
        elif special == 1:  # a region that does not exist
            body = "000000" + value[6:17]
            values.append(body + ric.calc_check_digit(body + "0"))
        else:
            values.append(corrupt(rng, value, "0123456789X"))
    return values


def test_uscc_valid_agrees_with_stdnum_on_generated_codes() -> None:
    values = uscc_sample()
    expected = [uscc_reference(v) for v in values]
    assert uscc_valid(pa.array(values, pa.string())).to_pylist() == expected
    assert 500 < expected.count(True) < 2500 and None in expected
    # Where stdnum's stricter shape applies (eight leading digits), it agrees outright.
    for value, ok in zip(values, expected, strict=True):
        if value is not None and value == value.upper() and value[:8].isdigit():
            assert ok == uscc.is_valid(value), value


def test_ric_valid_agrees_with_stdnum_on_generated_id_numbers() -> None:
    values = ric_sample()
    expected = [ric_reference(v) for v in values]
    assert ric_valid(pa.array(values, pa.string()), today=TODAY).to_pylist() == expected
    assert 500 < expected.count(True) < 2500
    for value, ok in zip(values, expected, strict=True):
        # stdnum also checks when a county existed, which the platform deliberately does not.
        if value is not None and ric.is_valid(value) and value == value.upper():
            birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
            assert ok or birth < date(1900, 1, 1) or birth > TODAY, value


@pytest.mark.parametrize(
    ("check", "sample", "reference"),
    [
        (uscc_valid, uscc_sample, uscc_reference),
        (lambda v: ric_valid(v, today=TODAY), ric_sample, ric_reference),
    ],
    ids=["uscc", "ric"],
)
def test_identifier_checks_read_chunked_and_sliced_arrays(check, sample, reference) -> None:  # type: ignore[no-untyped-def]
    values = sample(seed=3, size=500)
    expected = [reference(v) for v in values]
    chunked = pa.chunked_array([values[:123], values[123:]], type=pa.string())
    assert check(chunked).to_pylist() == expected
    sliced = pa.array(values, pa.string()).slice(37, 400)
    assert check(sliced).to_pylist() == expected[37:437]
    # Every value 18 bytes long and none null: the matrix is the data buffer itself.
    full = [v for v in values if v is not None and len(v.encode()) == 18]
    assert check(pa.array(full).slice(5)).to_pylist() == [reference(v) for v in full[5:]]
    assert len(check(pa.array([], pa.string()))) == 0


def test_identifier_checks_refuse_other_shapes_of_eighteen_bytes() -> None:
    rng = random.Random(5)
    code, person = make_uscc(rng), make_ric(rng)
    six_chinese = "杭州市西湖区"  # 18 bytes in UTF-8
    values = strings(code, six_chinese, None, code[:17], code + "0", "")
    assert uscc_valid(values).to_pylist() == [True, False, None, False, False, False]
    people = strings(person, six_chinese, None, person[:17])
    assert ric_valid(people, today=TODAY).to_pylist() == [True, False, None, False]


def test_lower_case_x_passes_once_standardised() -> None:
    rng = random.Random(9)
    people = []
    while len(people) < 20:
        value = make_ric(rng)
        if value.endswith("X"):
            people.append(value)
    lower = pa.array([v.lower() for v in people])
    assert not any(ric_valid(lower, today=TODAY).to_pylist())
    text = standardised_text(spec(DataType.CHAR, identifier="ric"), lower)
    assert all(ric_valid(text, today=TODAY).to_pylist())
    codes = pa.array([make_uscc(rng).lower() for _ in range(20)])
    text = standardised_text(spec(DataType.CHAR, identifier="uscc"), codes)
    assert all(uscc_valid(text).to_pylist())


def test_id_number_born_today_passes_and_tomorrow_fails() -> None:
    body = "330106" + TODAY.strftime("%Y%m%d") + "123"
    later = "330106" + (TODAY + timedelta(days=1)).strftime("%Y%m%d") + "123"
    values = strings(
        body + ric.calc_check_digit(body + "0"), later + ric.calc_check_digit(later + "0")
    )
    assert ric_valid(values, today=TODAY).to_pylist() == [True, False]


def test_region_codes_exist_including_abolished_ones() -> None:
    values = strings("330106", "110000", "000000", "33010", None, "3301060")
    assert region_valid(values).to_pylist() == [True, True, False, False, None, False]
    assert all(region_valid(pa.array(REGIONS)).to_pylist())


# ---- standardising --------------------------------------------------------------------------


def test_clean_text_half_widths_trims_and_nulls_empty_values() -> None:
    values = strings(
        "ＡＢＣ１２３", "\u3000杭州\u3000", " \tx\r\n\u00a0", "", "   ", None, "杭州市西湖区",
        "文三路１号（西）", "a  b",
    )  # fmt: skip
    assert clean_text(values).to_pylist() == [
        "ABC123", "杭州", "x", None, None, None, "杭州市西湖区", "文三路1号(西)", "a  b",
    ]  # fmt: skip


def test_clean_text_reads_typed_and_chunked_columns() -> None:
    assert clean_text(pa.array([12, None, -3])).to_pylist() == ["12", None, "-3"]
    chunked = pa.chunked_array([[" a "], ["ｂ", None]])
    assert clean_text(chunked).to_pylist() == ["a", "b", None]


DATES = [
    ("2024-3-5", date(2024, 3, 5)),
    ("2024-03-05", date(2024, 3, 5)),
    ("2024/3/5", date(2024, 3, 5)),
    ("20240305", date(2024, 3, 5)),
    ("2024年3月5日", date(2024, 3, 5)),
    ("2024年12月31日", date(2024, 12, 31)),
    ("2024.3.5", date(2024, 3, 5)),
    ("2024-3-5 10:11:12", date(2024, 3, 5)),
    ("45356", date(2024, 3, 5)),  # Excel serial
    ("45356.00", date(2024, 3, 5)),
    ("2024-02-29", date(2024, 2, 29)),
    ("2024-02-30", None),
    ("2023-02-29", None),
    ("2024-13-01", None),
    ("20241301", None),
    ("2024-3/5", None),
    ("2024-3-5 24:00:00", None),
    ("2024-3-5T10:11:12", None),
    ("45356.5", None),
    ("2024-3-5x", None),
    (None, None),
]


def test_typed_dates_accept_the_known_spellings_only() -> None:
    values = strings(*(text for text, _ in DATES))
    out = typed(spec(DataType.DATE), values)
    assert out.type == pa.date32()
    assert out.to_pylist() == [expected for _, expected in DATES]
    # Offsets that do not start at zero; a short value followed by a digit-led one.
    sliced = strings("x", "2024-1-1", "2024-1-15", "2024年1月1日").slice(1)
    assert typed(spec(DataType.DATE), sliced).to_pylist() == [
        date(2024, 1, 1), date(2024, 1, 15), date(2024, 1, 1),
    ]  # fmt: skip


def date_reference(text: str) -> date | None:
    """Python's reading of the accepted spellings, for comparison on generated text."""
    separated = re.fullmatch(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})( [0-9:]{8})?", text)
    chinese = re.fullmatch(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日", text)
    compact = re.fullmatch(r"([0-9]{4})([0-9]{2})([0-9]{2})", text)
    serial = re.fullmatch(r"([0-9]{1,5})(\.0+)?", text)
    try:
        if separated:
            if separated[5]:
                moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
                return moment.date() if separated[2] == "-" else None
            return date(int(separated[1]), int(separated[3]), int(separated[4]))
        if chinese or compact:
            parts = (chinese or compact).groups()  # type: ignore[union-attr]
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None
    if serial:
        return date(1899, 12, 30) + timedelta(days=int(serial[1]))
    return None


def test_typed_dates_agree_with_python_on_generated_spellings() -> None:
    rng = random.Random(13)
    texts = []
    for _ in range(5000):
        y = rng.choice(["2024", "2023", "1900", "202"])
        m = rng.choice(["1", "02", "12", "13", "0"])
        d = rng.choice(["1", "09", "29", "30", "31", "32"])
        time_part = rng.choice(["", "", " 10:11:12", " 24:00:00", " 23:59:60"])
        serial = str(rng.randrange(100_000)) + rng.choice(["", ".0", ".5"])
        spellings = [
            f"{y}-{m}-{d}{time_part}", f"{y}/{m}/{d}", f"{y}.{m}.{d}", f"{y}年{m}月{d}日",
            f"{y}{m}{d}", f"{y}-{m}/{d}", serial,
        ]  # fmt: skip
        texts.append(rng.choice(spellings))
    out = typed(spec(DataType.DATE), pa.array(texts)).to_pylist()
    assert out == [date_reference(t) for t in texts]
    assert 500 < sum(v is not None for v in out) < 4500


def test_typed_timestamps_are_utc_and_validated() -> None:
    values = strings(
        "2024-3-5 10:11:12", "2024/3/5 10:11:12", "2024-03-05T01:02:03",
        "2024年3月5日 23:59:59", "2024-3-5", "2024.3.5 10:11:12", "2024/3/5",
        "2024-3-5 23:60:00", "2024-02-30 00:00:00", None,
    )  # fmt: skip
    out = typed(spec(DataType.DATETIME), values)
    assert out.type == pa.timestamp("us", tz="UTC")
    assert out.to_pylist() == [
        datetime(2024, 3, 5, 10, 11, 12, tzinfo=UTC),
        datetime(2024, 3, 5, 10, 11, 12, tzinfo=UTC),
        datetime(2024, 3, 5, 1, 2, 3, tzinfo=UTC),
        datetime(2024, 3, 5, 23, 59, 59, tzinfo=UTC),
        datetime(2024, 3, 5, tzinfo=UTC),
        None, None, None, None, None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("data_type", "values", "expected"),
    [
        (
            DataType.LOGICAL,
            ["是", "TRUE", "y", "1", "否", "No", "0", "f", "maybe", None],
            [True, True, True, True, False, False, False, False, None, None],
        ),
        (
            DataType.NUMBER,
            ["1,234.5", "1e3", "-2.5E-1", ".5", "5.", "+7", "abc", "1.2.3", "0x10", "NaN", None],
            [1234.5, 1000.0, -0.25, 0.5, 5.0, 7.0, None, None, None, None, None],
        ),
        (DataType.DOUBLE, ["3.25", "x"], [3.25, None]),
        (DataType.FLOAT, ["-1", ""], [-1.0, None]),
        (
            DataType.MONEY,
            [
                "12.345",
                "-12.345",
                "12.344",
                "1,234.5",
                "1.2345e2",
                ".005",
                "+0.5",
                "999999999999999999.99",
                "999999999999999999.995",
                "1e18",
                "12.3.4",
                None,
            ],
            [
                Decimal("12.35"),
                Decimal("-12.35"),
                Decimal("12.34"),
                Decimal("1234.50"),
                Decimal("123.45"),
                Decimal("0.01"),
                Decimal("0.50"),
                Decimal("999999999999999999.99"),
                None,
                None,
                None,
                None,
            ],
        ),
        (
            DataType.INTEGER,
            [
                "12",
                "-3",
                "+5",
                "7.00",
                "1,000",
                "007",
                "9223372036854775807",
                "9223372036854775808",
                "1.5",
                "1e3",
                None,
            ],
            [12, -3, 5, 7, 1000, 7, 2**63 - 1, None, None, None, None],
        ),
        (DataType.CHAR, ["文本", None], ["文本", None]),
        (DataType.MEMO, ["备注"], ["备注"]),
        (DataType.GENERAL, ["x"], ["x"]),
    ],
    ids=lambda v: v.name if isinstance(v, DataType) else "",
)
def test_typed_values_parse_or_are_null(data_type, values, expected) -> None:  # type: ignore[no-untyped-def]
    out = typed(spec(data_type), pa.array(values, pa.string()))
    assert out.type == ARROW_TYPES[data_type]
    assert out.to_pylist() == expected


def test_arrow_types_cover_every_catalogue_type() -> None:
    assert set(ARROW_TYPES) == set(DataType)


# ---- checks and error lists -----------------------------------------------------------------


def wrong_check_character(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def test_item_checks_carry_the_ingest_reasons() -> None:
    item = spec(DataType.CHAR, name="代码", identifier="uscc", length=18, required=True)
    good = make_uscc(random.Random(1))
    raw = strings(f" {good.lower()}\t", None, "x" * 19, wrong_check_character(good))
    text = standardised_text(item, raw)
    checks = item_checks(item, text, typed(item, text), today=TODAY)
    assert error_list(len(text), checks).to_pylist() == [
        [],
        ["代码：必填项为空 (required value missing)"],
        ["代码：超过长度 18 (too long)", "代码：统一社会信用代码格式或校验位错误"],
        ["代码：统一社会信用代码格式或校验位错误"],
    ]


def test_item_checks_name_the_type_region_and_id_number_rules() -> None:
    founded = spec(DataType.DATE, name="成立日期")
    text = strings("2024-1-1", "明天")
    checks = item_checks(founded, text, typed(founded, text), today=TODAY)
    assert error_list(2, checks).to_pylist() == [
        [],
        ["成立日期：不是有效的日期型 (not a valid DATE)"],
    ]
    region = spec(DataType.CHAR, name="区划", identifier="region")
    text = strings("000000", "330106")
    checks = item_checks(region, text, text, today=TODAY)
    assert error_list(2, checks).to_pylist() == [["区划：行政区划代码不存在"], []]
    person = spec(DataType.CHAR, name="身份证", identifier="ric")
    text = strings("x")
    reasons = [reason for _, reason in item_checks(person, text, text, today=TODAY)]
    assert reasons[-1] == "身份证：身份证号格式、出生日期、地区码或校验位错误"


def test_error_list_keeps_check_order_and_gives_passing_rows_empty_lists() -> None:
    checks = [
        (pa.array([False, True, None, True, False]), "a"),
        (pa.chunked_array([[True, True], [None, False, False]]), "b"),
        (pa.array([None, True, True, False, False]), "c"),
    ]
    out = error_list(5, checks)
    assert out.type == pa.list_(pa.string())
    assert out.null_count == 0
    assert out.to_pylist() == [["b"], ["a", "b", "c"], ["c"], ["a"], []]
    assert error_list(3, []).to_pylist() == [[], [], []]
    clean = error_list(100_000, [(pa.array([False] * 100_000), "x")])
    assert clean.to_pylist()[:2] == [[], []] and len(clean.flatten()) == 0


# ---- rule conditions ------------------------------------------------------------------------


def condition(r: Rule, text: list[str | None], value: pa.Array | None = None) -> list[bool | None]:
    texts = pa.array(text, pa.string())
    return failed_condition(r, texts, texts if value is None else value, today=TODAY).to_pylist()


def test_required_type_and_length_rules() -> None:
    assert condition(rule("required"), ["a", None]) == [False, True]
    assert condition(rule("not_null"), ["a", None]) == [False, True]
    values = pa.array([1, None, None], pa.int64())
    assert condition(rule("type"), ["1", "x", None], values) == [False, True, False]
    length = rule("length", min_value=2, max_value=3)
    assert condition(length, ["a", "ab", "abcd", "杭州市", None]) == [
        True,
        False,
        True,
        False,
        None,
    ]
    assert condition(rule("length", max_value=2), ["abc"]) == [True]


def test_identifier_rules_fail_bad_values_only() -> None:
    rng = random.Random(2)
    code, person = make_uscc(rng), make_ric(rng)
    assert condition(rule("uscc"), [code, code[:-1] + "I", None]) == [False, True, None]
    assert condition(rule("ric"), [person, "330106" + "2030" + "0101" + "0000", None]) == [
        False, True, None,
    ]  # fmt: skip
    assert condition(rule("region"), ["330106", "999999", None]) == [False, True, None]


def test_set_and_format_rules() -> None:
    in_set = ["A", "Z", None]
    assert condition(rule("code_list", value_set=["A", "B"]), in_set) == [False, True, False]
    assert condition(rule("in_set", value_set=["A", "B"]), in_set) == [False, True, False]
    assert condition(rule("not_in_set", value_set=["Z"]), in_set) == [False, True, False]
    # Spark's rlike finds the pattern anywhere, as RE2's partial match does.
    values = ["202401", "2024-01", "x202413", None]
    assert condition(rule("format", regex=r"^[0-9]{4}(0[1-9]|1[0-2])$"), values) == [
        False, True, True, False,
    ]  # fmt: skip
    assert condition(rule("regex", regex="公司"), ["杭州公司分部", "合作社", None]) == [
        False, True, False,
    ]  # fmt: skip


def test_not_future_reads_dates_and_timestamps() -> None:
    days = pa.array([TODAY, TODAY + timedelta(days=1), None], pa.date32())
    assert condition(rule("not_future"), ["", "", ""], days) == [False, True, None]
    moments = pa.array(
        [datetime(2026, 3, 3, 23, 59, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC)],
        pa.timestamp("us", tz="UTC"),
    )
    assert condition(rule("not_future"), ["", ""], moments) == [False, True]


def test_ranges_compare_numbers_decimals_dates_and_timestamps() -> None:
    years = pa.array([2026, 2027, None], pa.int64())
    assert condition(rule("year_not_future", max_value=2026), ["", "", ""], years) == [
        False, True, None,
    ]  # fmt: skip
    money = pa.array([Decimal("0.00"), Decimal("-0.01"), None], pa.decimal128(20, 2))
    assert condition(rule("non_negative", min_value=0), ["", "", ""], money) == [False, True, None]
    # Decimal bounds keep their exact value: 0.001 and 1e30 compare as written.
    fine = rule("between", min_value=0.001, max_value=1e30)
    assert condition(fine, ["", "", ""], money) == [True, True, None]
    floats = pa.array([0.5, 5.0, 50.0])
    assert condition(rule("between", min_value=1, max_value=10), ["", "", ""], floats) == [
        True, False, True,
    ]  # fmt: skip
    days = pa.array([date(2023, 12, 31), date(2024, 6, 1), date(2025, 1, 1)], pa.date32())
    window = rule("between", min_value="2024-01-01", max_value="2024-12-31")
    assert condition(window, ["", "", ""], days) == [True, False, True]
    moments = pa.array(
        [datetime(2023, 12, 31, 23, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)],
        pa.timestamp("us", tz="UTC"),
    )
    assert condition(rule("between", min_value="2024-01-01"), ["", ""], moments) == [True, False]
    # A date bound on a number, as Spark's cast to null did, never fails a row.
    assert condition(rule("between", min_value="2024-01-01"), [""], floats[:1]) == [None]
    # A numeric range on a text item reads the text as a number.
    assert condition(rule("between", max_value=10), ["5", "50", "x"]) == [False, True, None]


def test_reference_rule_reads_the_lookup_and_only_judges_enterprises() -> None:
    company = reference_rule("代码", Reference("uscc", "法人", "R1", "base_company", "代码"))
    texts = strings("91330106MA27XXXXX1", "91330106MA27XXXXX2", "12330000ABCDEFGH12", None)
    found = pa.array([True, False, False, None])
    out = failed_condition(company, texts, texts, today=TODAY, found=found)
    assert out.to_pylist() == [False, True, False, False]
    person = reference_rule("身份证", Reference("ric", "人口", "R2", "base_person", "身份证"))
    texts = strings("330106198001010011", "330106198001010012", None)
    found = pa.chunked_array([[True], [None, None]])
    out = failed_condition(person, texts, texts, today=TODAY, found=found)
    assert out.to_pylist() == [False, True, False]
    with pytest.raises(BadRule):
        failed_condition(person, texts, texts, today=TODAY)


@pytest.mark.parametrize("kind", ["unique", "no_such_kind"])
def test_rules_without_a_row_condition_are_refused(kind: str) -> None:
    with pytest.raises(BadRule):
        condition(rule(kind), ["a"])


def test_rule_set_leaves_unique_to_the_batch_and_reads_reference_lookups() -> None:
    name = spec(DataType.CHAR, name="名称", required=True)
    code = spec(DataType.CHAR, name="代码", identifier="uscc")
    unique = steward_rule(rule_id=1, item="名称", kind="unique", params={}, label="")
    ruleset = build_ruleset(
        resource_code="R", resource_name="r", provider_code="P", table="t",
        items=[name, code], keys=["代码"], steward=[unique], today=TODAY,
        references={"代码": Reference("uscc", "法人", "R1", "base", "代码")},
    )  # fmt: skip
    assert ruleset.batch_rules == [unique]
    assert unique in ruleset.item_rules("名称")
    text = strings("甲", None)
    checks = ruleset.item_checks(name, text, text)
    assert [reason for _, reason in checks] == [
        "名称：必填项为空 (required value missing)",
        "名称：不是有效的字符型 (not a valid CHAR)",
    ]
    codes = strings("91330106MA27XXXXX1", "91330106MA27XXXXX2")
    ((condition_, reason),) = ruleset.reference_checks(
        lambda item: codes, {"reference:代码": pa.array([True, False])}
    )
    assert condition_.to_pylist() == [False, True]
    assert reason == "代码：法人库中不存在该统一社会信用代码 (not in the 法人 base table)"


def test_steward_regex_must_compile_in_re2() -> None:
    with pytest.raises(BadRule, match="invalid regex"):
        check_steward_params("regex", {"pattern": "(?=a)"})
    assert check_steward_params("regex", {"pattern": "公司$"}) == {"pattern": "公司$"}


# ---- Great Expectations on pandas ------------------------------------------------------------


def test_ge_pandas_engine_finds_the_one_bad_uscc() -> None:
    from quality.expectations import validate_with_ge

    code = spec(DataType.CHAR, name="代码", identifier="uscc", length=18, required=True)
    capital = spec(DataType.MONEY, name="注册资本")
    ruleset = build_ruleset(
        resource_code="000001/R", resource_name="r", provider_code="P", table="t",
        items=[code, capital], keys=[], today=TODAY,
    )  # fmt: skip
    rng = random.Random(4)
    codes = [make_uscc(rng) for _ in range(5)]
    codes[2] = wrong_check_character(codes[2])
    capitals = ["100.50", "2,000", "3", "0", "12.345"]
    frame = pd.DataFrame({"代码": codes, "注册资本": capitals})
    frame["__v_注册资本"] = typed(capital, pa.array(capitals)).to_pandas()
    result = validate_with_ge(frame, ruleset)
    by_type = {r.expectation_config.type: r for r in result.results}
    assert by_type["expect_column_values_to_be_valid_uscc"].result["unexpected_count"] == 1
    assert [r.expectation_config.type for r in result.results if not r.success] == [
        "expect_column_values_to_be_valid_uscc"
    ]
    table = pa.Table.from_pandas(frame)
    again = validate_with_ge(table, ruleset)
    assert again.statistics["unsuccessful_expectations"] == 1
