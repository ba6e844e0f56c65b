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

from lake.errors import SourceUnreadable


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


def _sheet(book: Any, path: Path, sheet: str | None) -> Any:
    if sheet is None:
        return book.worksheets[0]
    if sheet not in book.sheetnames:
        raise SourceUnreadable(
            f"工作簿 {path.name} 中没有工作表「{sheet}」，现有：{'、'.join(book.sheetnames)} "
            "(no such sheet)"
        )
    return book[sheet]


def _rows(path: Path, sheet: str | None = None) -> Iterator[tuple[Any, ...]]:
    book = _open(path)
    try:
        yield from _sheet(book, path, sheet).iter_rows(values_only=True)
    finally:
        book.close()


def first_sheet(path: Path) -> str:
    book = _open(path)
    try:
        return str(book.sheetnames[0])
    finally:
        book.close()


def header_cells(path: Path, sheet: str | None = None, header_row: int = 1) -> list[str]:
    """The cells of the header row (Excel row ``header_row``, title rows above it)."""
    for number, row in enumerate(_rows(path, sheet), start=1):
        if number == header_row:
            return [str(c) if c is not None else "" for c in row]
    return []


def _blank(row: tuple[Any, ...] | None) -> bool:
    return row is None or all(c is None for c in row)


def blank_rows(path: Path, sheet: str | None = None, header_row: int = 1) -> list[int]:
    """Excel row numbers of the empty rows below the header, which the reader skips: what
    turns a data row's number into the row Excel shows."""
    return [
        number
        for number, row in enumerate(_rows(path, sheet), start=1)
        if number > header_row and _blank(row)
    ]


def read_strings(
    path: Path,
    headers: list[str],
    *,
    sheet: str | None = None,
    header_row: int = 1,
    chunk: int = 100_000,
) -> Iterator[pa.RecordBatch]:
    """Data rows below the header as string record batches, keyed by the given column names;
    empty rows are skipped (``blank_rows`` says where they were)."""
    schema = pa.schema([(h, pa.string()) for h in headers])
    rows = _rows(path, sheet)
    for _ in range(header_row):  # title rows and the header
        next(rows, None)
    columns: list[list[str | None]] = [[] for _ in headers]
    for row in rows:
        if _blank(row):
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
