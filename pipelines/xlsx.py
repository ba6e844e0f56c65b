"""Reading departmental XLSX extracts (Spark has no Excel reader of its own).

Workbooks are read in openpyxl's streaming mode and handed to Spark as Arrow; XLSX extracts
are capped by Excel at about a million rows a sheet, so this path stays bounded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipelines.errors import SourceUnreadable


def _open(path: Path) -> Any:
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        raise SourceUnreadable(
            f"XLSX 文件无法打开 (unreadable workbook) {path.name}: {type(error).__name__}"
        ) from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows(path: Path) -> Iterator[tuple[Any, ...]]:
    book = _open(path)
    try:
        sheet = book.worksheets[0]
        yield from sheet.iter_rows(values_only=True)
    finally:
        book.close()


def header_row(path: Path) -> list[str]:
    for row in _rows(path):
        return [str(c) if c is not None else "" for c in row]
    return []


def read_strings(
    path: Path, headers: list[str], *, chunk: int = 100_000
) -> Iterator[pa.RecordBatch]:
    """Data rows as string record batches, keyed by the given (cleaned) headers."""
    schema = pa.schema([(h, pa.string()) for h in headers])
    rows = _rows(path)
    next(rows, None)  # header
    columns: list[list[str | None]] = [[] for _ in headers]
    for row in rows:
        if row is None or all(c is None for c in row):
            continue
        for index in range(len(headers)):
            columns[index].append(_text(row[index]) if index < len(row) else None)
        if len(columns[0]) >= chunk:
            yield pa.RecordBatch.from_arrays(
                [pa.array(c, pa.string()) for c in columns], schema=schema
            )
            columns = [[] for _ in headers]
    if columns[0] or not headers:
        yield pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], schema=schema)
