"""Standardising and type-checking source columns over Arrow arrays.

Departments send full-width digits, padded text, dates in half a dozen spellings (2024年3月5日,
2024/3/5, Excel serial numbers) and lower-case x in ID numbers. The ingest job runs these
functions inside Spark ``mapInArrow`` tasks: as Spark column expressions they cost about six
plain scans, while ``pyarrow.compute`` (and numpy where a rule is arithmetic) evaluates the
same rules 10-20× faster on Arrow batches. Nothing here raises on bad data: a value that does
not parse is null, and each failed check yields a reason naming the data item and the rule,
never the value (it may be personal data).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog.domain import DataType
from checks.identifiers import as_array, real_date, region_valid, ric_valid, uscc_valid
from checks.plan import ItemSpec

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map onto ASCII.
FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
HALF_WIDTH = "".join(chr(c) for c in range(0x21, 0x7F)) + " "
_TO_HALF_WIDTH = str.maketrans(FULL_WIDTH, HALF_WIDTH)
_FULL_WIDTH_CHAR = "[\uff01-\uff5e\u3000]"

PADDING = " \t\r\n\u00a0"

ARROW_TYPES: dict[DataType, pa.DataType] = {
    DataType.CHAR: pa.string(),
    DataType.MEMO: pa.string(),
    DataType.GENERAL: pa.string(),
    DataType.NUMBER: pa.float64(),
    DataType.DOUBLE: pa.float64(),
    DataType.FLOAT: pa.float64(),
    DataType.MONEY: pa.decimal128(20, 2),
    DataType.INTEGER: pa.int64(),
    DataType.DATE: pa.date32(),
    DataType.DATETIME: pa.timestamp("us", tz="UTC"),
    DataType.LOGICAL: pa.bool_(),
}

# The spellings Spark's former patterns accepted, whole string, M and d of one or two digits:
# yyyy-M-d, yyyy/M/d, yyyyMMdd, yyyy年M月d日, yyyy.M.d and yyyy-M-d HH:mm:ss (its date part).
_TIME = "[0-9]{2}:[0-9]{2}:[0-9]{2}"
_MD = "[0-9]{1,2}"
DATE_SHAPE = (
    f"^[0-9]{{4}}(?:-{_MD}-{_MD}(?: {_TIME})?|/{_MD}/{_MD}|\\.{_MD}\\.{_MD}|年{_MD}月{_MD}日"
    "|[0-9]{4})$"
)
# yyyy-M-d HH:mm:ss, yyyy/M/d HH:mm:ss, yyyy-M-d'T'HH:mm:ss, yyyy年M月d日 HH:mm:ss, yyyy-M-d.
TIMESTAMP_SHAPE = (
    f"^[0-9]{{4}}(?:-{_MD}-{_MD}(?:[ T]{_TIME})?|/{_MD}/{_MD} {_TIME}|年{_MD}月{_MD}日 {_TIME})$"
)
# Excel stores dates as days since 1899-12-30; extracts exported from it keep the number.
EXCEL_SERIAL = r"^[0-9]{1,5}(?:\.0+)?$"
EXCEL_EPOCH = date(1899, 12, 30)
_DATE_BLOCK = 1 << 15
_READ_AHEAD = 32  # bytes a parse may read past a value's start (longest spelling: 26)

TRUE_WORDS = ("是", "true", "t", "y", "yes", "1")
FALSE_WORDS = ("否", "false", "f", "n", "no", "0")

_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_INTEGER = r"^[+-]?[0-9]+(\.0+)?$"
MONEY_DIGITS = 18  # decimal(20, 2): at most 18 digits before the point
_CENTS = r"^[+-]?([0-9]{1,18}(\.[0-9]{0,2})?|\.[0-9]{1,2})$"  # fits decimal(20, 2) as written
_MILLS = r"^[+-]?([0-9]{1,30}(\.[0-9]{0,3})?|\.[0-9]{1,3})$"  # rounds from decimal(34, 3)
_CENT = Decimal("0.01")

NULL_STRING = pa.scalar(None, pa.string())


def _may_hold_full_width(array: pa.Array) -> bool:
    """Whether any UTF-8 byte sequence of a full-width form or U+3000 could be present.

    Full-width forms (U+FF01..U+FF5E) start with byte 0xEF and the ideographic space is
    E3 80 80; Chinese text itself (U+4E00..U+9FFF) leads with E4..E9. A byte scan of the
    column's buffer (a few ms) spares the regular expression on nearly every column.
    """
    buffers = array.buffers()
    if len(array) == 0 or len(buffers) < 3 or buffers[2] is None:
        return False
    offsets = np.frombuffer(buffers[1], dtype=np.int32)
    start, end = offsets[array.offset], offsets[array.offset + len(array)]
    raw = np.frombuffer(buffers[2], dtype=np.uint8)[start:end]
    if (raw == 0xEF).any():
        return True
    lead = np.flatnonzero(raw[:-2] == 0xE3)
    return bool(((raw[lead + 1] == 0x80) & (raw[lead + 2] == 0x80)).any())


def clean_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Full-width to half-width, trimmed, empty as null.

    Only values holding a full-width character are translated, in Python: they are rare, so
    the rest of the column never leaves Arrow's kernels.
    """
    array = as_array(values)
    if not pa.types.is_string(array.type):
        # Parquet sources may carry typed columns; the checks read text.
        array = pc.cast(array, pa.string())
    if _may_hold_full_width(array):
        full = pc.fill_null(pc.match_substring_regex(array, _FULL_WIDTH_CHAR), False)
        if pc.any(full).as_py():
            translated = [s.translate(_TO_HALF_WIDTH) for s in array.filter(full).to_pylist()]
            array = pc.replace_with_mask(array, full, pa.array(translated, type=pa.string()))
    # Spaces, tabs and line breaks at either end (trimming spaces only let extracts padded
    # with tabs show up in themes as false conflicts).
    text = pc.utf8_trim(array, characters=PADDING)
    empty = pc.equal(pc.binary_length(text), 0)
    if pc.any(empty).as_py():
        text = pc.if_else(empty, NULL_STRING, text)
    return text


def standardised_text(item: ItemSpec, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Cleaned text; identifiers upper-cased, since ID numbers arrive with a lower-case x."""
    text = clean_text(values)
    if item.identifier in ("uscc", "ric"):
        text = pc.utf8_upper(text)
    return text


# ---- parsing ------------------------------------------------------------------------------


def _matching(text: pa.Array, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(text, pattern), False).to_numpy(
        zero_copy_only=False
    )


def _digit_tables() -> tuple[np.ndarray, np.ndarray]:
    """Byte -> digit, and byte pair (first << 8 | second) -> two-digit number; -1 otherwise."""
    single = np.full(256, -1, dtype=np.int16)
    single[ord("0") : ord("9") + 1] = np.arange(10)
    first, second = single[np.arange(65_536) >> 8], single[np.arange(65_536) & 0xFF]
    pair = np.where((first >= 0) & (second >= 0), first * 10 + second, -1).astype(np.int16)
    return single, pair


_DIGIT, _TWO_DIGITS = _digit_tables()


class _Bytes:
    """The UTF-8 bytes of a string array, read at computed positions.

    Once a regular expression (a fast DFA match) has vouched for a value's shape, its fields
    sit at positions that follow from a few of its bytes; reading those bytes directly is
    several times faster than capturing groups with ``extract_regex``.
    """

    def __init__(self, text: pa.Array) -> None:
        _, offsets, data = text.buffers()
        self.starts = np.frombuffer(
            offsets, dtype=np.int32, count=len(text) + 1, offset=text.offset * 4
        )
        raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
        self.data = np.zeros(len(raw) + _READ_AHEAD, dtype=np.uint8)
        self.data[: len(raw)] = raw
        self.pairs = (self.data[:-1].astype(np.uint16) << 8) | self.data[1:]

    def digit(self, at: np.ndarray) -> np.ndarray:
        """The digit at ``at`` (-1 if that byte is none)."""
        return _DIGIT[self.data[at]]

    def two(self, at: np.ndarray) -> np.ndarray:
        """The number written at ``at`` and ``at + 1`` (-1 unless both are digits)."""
        return _TWO_DIGITS[self.pairs[at]]


def _epoch_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid calendar dates (H. Hinnant's days_from_civil)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _date_time(text: pa.Array, shape: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epoch days, seconds of the day and validity, for values of the given shape.

    Rows are read a cache-sized block at a time: the arithmetic is cheap, fresh memory for
    whole-column temporaries is not.
    """
    n = len(text)
    days, seconds = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    ok = _matching(text, shape)
    rows = np.flatnonzero(ok)
    if len(rows) == 0:
        return days, seconds, ok
    raw = _Bytes(text)
    for first in range(0, len(rows), _DATE_BLOCK):
        block = rows[first : first + _DATE_BLOCK]
        days[block], seconds[block], ok[block] = _date_fields(
            raw, raw.starts[block].astype(np.int64), raw.starts[block + 1].astype(np.int64)
        )
    return days, seconds, ok


def _date_fields(
    raw: _Bytes, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    year = raw.two(start).astype(np.int32) * 100 + raw.two(start + 2)
    fifth = raw.data[start + 4]
    compact = _DIGIT[fifth] >= 0  # yyyyMMdd (every spelling has a fifth byte)
    wide = fifth >= 0x80  # 年, 月, 日: three bytes each in UTF-8
    separator = 1 + 2 * wide
    at = start + 4 + separator
    number = raw.two(at)
    two = number >= 0  # a separator always follows the month
    month = np.where(two, number, raw.digit(at))
    at = at + 1 + two + separator
    number = raw.two(at)
    two = (number >= 0) & (at + 1 < end)  # the day may end the value
    day = np.where(two, number, raw.digit(at))
    at = at + 1 + two + 3 * wide  # past 日
    month = np.where(compact, raw.two(start + 4), month).astype(np.int32)
    day = np.where(compact, raw.two(start + 6), day).astype(np.int32)
    valid = real_date(year, month, day)
    seconds = np.zeros(len(start), dtype=np.int64)
    timed = ~compact & (at < end)
    if timed.any():
        hour, minute, second = (
            np.where(timed, raw.two(at + k), 0).astype(np.int64) for k in (1, 4, 7)
        )
        valid &= (hour < 24) & (minute < 60) & (second < 60)
        seconds = hour * 3600 + minute * 60 + second
    days = np.where(valid, _epoch_days(year, month, day), 0)
    return days, seconds, valid


def _parse_date(text: pa.Array) -> pa.Array:
    days, _, ok = _date_time(text, DATE_SHAPE)
    rest = np.flatnonzero(~ok)  # usually few: the serial test runs on those alone
    if len(rest):
        candidates = text.take(pa.array(rest))
        serial = _matching(candidates, EXCEL_SERIAL)
        rows = rest[serial]
        whole = pc.replace_substring_regex(candidates.filter(serial), r"\.0+$", "")
        serial_days = pc.cast(whole, pa.int64()).to_numpy(zero_copy_only=False)
        days[rows] = (EXCEL_EPOCH - date(1970, 1, 1)).days + serial_days
        ok[rows] = True
    return pa.array(days.astype(np.int32), type=pa.date32(), mask=~ok)


def _parse_timestamp(text: pa.Array) -> pa.Array:
    days, seconds, ok = _date_time(text, TIMESTAMP_SHAPE)
    micros = (days * 86_400 + seconds) * 1_000_000
    return pa.array(micros, type=ARROW_TYPES[DataType.DATETIME], mask=~ok)


def _parse_logical(text: pa.Array) -> pa.Array:
    lowered = pc.utf8_lower(text)
    true = pc.is_in(lowered, value_set=pa.array(TRUE_WORDS))
    false = pc.is_in(lowered, value_set=pa.array(FALSE_WORDS))
    return pc.if_else(true, True, pc.if_else(false, False, pa.scalar(None, pa.bool_())))


def _parse_integer(number: pa.Array) -> pa.Array:
    """Whole numbers (``12``, ``-3``, ``7.00``) as int64; null beyond the int64 range.

    Arrow's cast reads the common spellings; a ``+`` sign, a ``.00`` tail and values near
    the int64 limit (19 digits or more) go through Python's ``int``.
    """
    valid = pc.fill_null(pc.match_substring_regex(number, _INTEGER), False)
    long = pc.fill_null(pc.greater_equal(pc.binary_length(number), 19), False)
    special = pc.and_(
        valid, pc.or_(long, pc.or_(pc.starts_with(number, "+"), pc.match_substring(number, ".")))
    )
    fast = pc.and_(valid, pc.invert(special))
    out = pc.cast(pc.if_else(fast, number, NULL_STRING), pa.int64())
    if not pc.any(special).as_py():
        return out
    exact = [_integer_of(text) for text in number.filter(special).to_pylist()]
    return pc.replace_with_mask(out, special, pa.array(exact, type=pa.int64()))


def _integer_of(text: str) -> int | None:
    value = int(text.split(".")[0])
    return value if -(2**63) <= value < 2**63 else None


def _parse_money(number: pa.Array) -> pa.Array:
    """decimal(20, 2), rounded half up (away from zero) as Java's BigDecimal does.

    Amounts with at most two decimals and 18 digits (nearly all) are one cast; the rest take
    the rounding path of :func:`_round_money` on their rows alone.
    """
    money = ARROW_TYPES[DataType.MONEY]
    plain = pc.fill_null(pc.match_substring_regex(number, _CENTS), False)
    out = pc.cast(pc.if_else(plain, number, NULL_STRING), money)
    rest = pc.and_(pc.is_valid(number), pc.invert(plain))
    if not pc.any(rest).as_py():
        return out
    return pc.replace_with_mask(out, rest, _round_money(number.filter(rest)))


def _round_money(number: pa.Array) -> pa.Array:
    """Half-up at two places only looks at the third decimal: values with at most three
    decimals and a plausible length are cast and rounded in Arrow; the others (scientific
    spellings, long fractions, absurd lengths) go through Python's ``Decimal``.
    """
    money = ARROW_TYPES[DataType.MONEY]
    fast = pc.fill_null(pc.match_substring_regex(number, _MILLS), False)
    wide = pc.cast(pc.if_else(fast, number, NULL_STRING), pa.decimal128(34, 3))
    rounded = pc.round(wide, ndigits=2, round_mode="half_towards_infinity")
    limit = pa.scalar(Decimal(10) ** MONEY_DIGITS, type=rounded.type)
    fits = pc.less(pc.abs(rounded), limit)
    out = pc.cast(pc.if_else(fits, rounded, pa.scalar(None, rounded.type)), money)
    valid = pc.fill_null(pc.match_substring_regex(number, _NUMBER), False)
    slow = pc.and_(valid, pc.invert(fast))
    if not pc.any(slow).as_py():
        return out
    exact = [_money_of(text) for text in number.filter(slow).to_pylist()]
    return pc.replace_with_mask(out, slow, pa.array(exact, type=money))


def _money_of(text: str) -> Decimal | None:
    try:
        value = Decimal(text).quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # too many digits to quantize: far beyond decimal(20, 2)
        return None
    return value if abs(value) < Decimal(10) ** MONEY_DIGITS else None


def typed(item: ItemSpec, text: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The standardised text as ``ARROW_TYPES[item.data_type]`` (null when it does not parse),
    in the catalogue's unit when the mount converts one (``scaled``)."""
    value = _typed(item, text)
    return value if item.factor is None else scaled(item, value)


def scaled(item: ItemSpec, value: pa.Array) -> pa.Array:
    """Typed values times the mount's unit factor (万元 → 元: 10000), in the item's type.

    Money stays exact (decimal arithmetic, rounded to the cent); a value the item's type cannot
    hold once converted becomes null, which the type check reports as not valid.
    """
    factor = item.factor
    if factor is None or item.data_type not in _NUMERIC:
        return value
    target = ARROW_TYPES[item.data_type]
    if item.data_type is DataType.MONEY:
        product = pc.round(pc.multiply(value, pa.scalar(factor)), ndigits=2)
        limit = pa.scalar(Decimal(10) ** MONEY_DIGITS, pa.decimal128(38, 0))
        fits = pc.less(pc.abs(product), pc.cast(limit, product.type))
        kept = pc.if_else(fits, product, pa.scalar(None, product.type))
        return pc.cast(kept, target, safe=False)
    product = pc.multiply(pc.cast(value, pa.float64()), float(factor))
    if item.data_type is DataType.INTEGER:
        whole = pc.equal(product, pc.round(product))
        in_range = pc.less(pc.abs(product), 2.0**62)
        ok = pc.and_(whole, in_range)
        return pc.cast(pc.if_else(ok, product, pa.scalar(None, pa.float64())), target)
    return product


_NUMERIC = (DataType.NUMBER, DataType.DOUBLE, DataType.FLOAT, DataType.MONEY, DataType.INTEGER)


def _typed(item: ItemSpec, text: pa.Array | pa.ChunkedArray) -> pa.Array:
    text = as_array(text)
    kind = item.data_type
    if kind is DataType.DATE:
        return _parse_date(text)
    if kind is DataType.DATETIME:
        return _parse_timestamp(text)
    if kind is DataType.LOGICAL:
        return _parse_logical(text)
    if kind in (DataType.NUMBER, DataType.DOUBLE, DataType.FLOAT, DataType.MONEY, DataType.INTEGER):
        number = pc.replace_substring(text, ",", "")
        if kind is DataType.INTEGER:
            return _parse_integer(number)
        if kind is DataType.MONEY:
            return _parse_money(number)
        valid = pc.match_substring_regex(number, _NUMBER)
        return pc.cast(pc.if_else(valid, number, NULL_STRING), pa.float64())
    return text


# ---- checks -------------------------------------------------------------------------------


def item_checks(
    item: ItemSpec, text: pa.Array, value: pa.Array, *, today: date
) -> list[tuple[pa.BooleanArray, str]]:
    """(failed condition, reason) pairs for one data item; a null condition counts as passed."""
    checks: list[tuple[pa.BooleanArray, str]] = []
    if item.required:
        checks.append((pc.is_null(text), f"{item.name}：必填项为空 (required value missing)"))
    checks.append(
        (
            pc.and_(pc.is_valid(text), pc.is_null(value)),
            f"{item.name}：不是有效的{item.data_type.label} (not a valid {item.data_type.name})",
        )
    )
    if item.length and item.data_type in (DataType.CHAR, DataType.MEMO):
        checks.append(
            (
                pc.greater(pc.utf8_length(text), item.length),
                f"{item.name}：超过长度 {item.length} (too long)",
            )
        )
    if item.identifier == "uscc":
        checks.append(
            (pc.invert(uscc_valid(text)), f"{item.name}：统一社会信用代码格式或校验位错误")
        )
    elif item.identifier == "ric":
        checks.append(
            (
                pc.invert(ric_valid(text, today=today)),
                f"{item.name}：身份证号格式、出生日期、地区码或校验位错误",
            )
        )
    elif item.identifier == "region":
        checks.append((pc.invert(region_valid(text)), f"{item.name}：行政区划代码不存在"))
    return checks


def error_list(length: int, checks: list[tuple[pa.Array, str]]) -> pa.ListArray:
    """Per row, the reasons whose condition holds, in check order; passing rows get ``[]``.

    Built from the failing positions only (usually few), so a clean batch costs one scan of
    each condition and no per-row work.
    """
    rows_of, reason_of = [], []
    for position, (condition, _) in enumerate(checks):
        failed = pc.fill_null(as_array(condition), False).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(failed)
        rows_of.append(rows)
        reason_of.append(np.full(len(rows), position, dtype=np.int64))
    rows = np.concatenate(rows_of) if rows_of else np.empty(0, dtype=np.int64)
    reasons = np.concatenate(reason_of) if reason_of else np.empty(0, dtype=np.int64)
    order = np.lexsort((reasons, rows))  # by row, then check order
    offsets = np.zeros(length + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=length), out=offsets[1:])
    names = pa.array([reason for _, reason in checks], type=pa.string())
    return pa.ListArray.from_arrays(
        pa.array(offsets), names.take(pa.array(reasons[order], type=pa.int64()))
    )
