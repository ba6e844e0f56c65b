"""Arrow string building blocks: the generator assembles every column with these.

Everything works on whole columns (Arrow compute kernels or numpy byte matrices), so a chunk of
100,000 rows costs a handful of vectorised calls instead of 100,000 Python f-strings.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from demo.synth.identifiers import digits, to_arrow, yyyymmdd

Part: TypeAlias = pa.Array | str

NAT = np.datetime64("NaT", "D")
NULL = pa.scalar(None, pa.string())


def strings(values: list[str]) -> pa.StringArray:
    return pa.array(values, type=pa.string())


def take(pool: pa.Array, index: np.ndarray) -> pa.Array:
    """Sample a prebuilt pool by index: the way Faker's slowness is paid once, not per row."""
    return pool.take(pa.array(index, type=pa.int64()))


def join(*parts: Part) -> pa.Array:
    """Element-wise concatenation; a null anywhere makes the row null."""
    return pc.binary_join_element_wise(*parts, "")


def ints(values: np.ndarray, width: int = 0) -> pa.Array:
    """Integers as decimal text, zero-padded to ``width`` when given."""
    text = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(text, width, padding="0") if width else text


def null_where(values: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return values
    return pc.if_else(pa.array(mask), NULL, values)


def dates(days: np.ndarray, *, compact: bool = False) -> pa.Array:
    """datetime64[D] as 2024-03-05 (or 20240305 for items of length 8); NaT becomes null."""
    missing = np.isnat(days)
    safe = np.where(missing, np.datetime64("2000-01-01", "D"), days).astype("datetime64[D]")
    matrix = digits(yyyymmdd(safe), 8) + ord("0")
    if not compact:
        dash = np.full((len(days), 1), ord("-"), dtype=np.uint8)
        matrix = np.concatenate([matrix[:, :4], dash, matrix[:, 4:6], dash, matrix[:, 6:]], axis=1)
    return null_where(to_arrow(matrix.astype(np.uint8)), missing)


def months(days: np.ndarray) -> pa.Array:
    """datetime64 as the YYYYMM period departments use for 所属期 and 缴费月份."""
    return to_arrow(digits(yyyymmdd(days.astype("datetime64[D]")) // 100, 6) + ord("0"))


def money(yuan: np.ndarray) -> pa.Array:
    """Amounts with two decimals (12345.60); NaN becomes null."""
    missing = np.isnan(yuan)
    cents = np.rint(np.where(missing, 0.0, yuan) * 100).astype(np.int64)
    text = join(ints(cents // 100), ".", ints(cents % 100, 2))
    return null_where(text, missing)


def constant(value: str, n: int) -> pa.Array:
    return pa.array(np.full(n, value, dtype=object), type=pa.string())


def pick(
    options: list[str], rng: np.random.Generator, n: int, p: list[float] | None = None
) -> pa.Array:
    """n values drawn from a short list of code values (A/B/M/C/D, 结婚/离婚...)."""
    weights = None if p is None else np.asarray(p, dtype=np.float64) / sum(p)
    return take(strings(options), rng.choice(len(options), size=n, p=weights))


def full_width(value: str) -> str:
    """ASCII letters and digits as their full-width forms (ＩＤ１２３), as IMEs type them."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)


def excel_serial(day: np.datetime64) -> int:
    """The number Excel shows when a date cell is formatted as a number (1900 date system)."""
    return int((day - np.datetime64("1899-12-30", "D")).astype(np.int64))
