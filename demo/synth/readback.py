"""Read a generated extract back as rows, as the manifest says to read it.

Used to verify what was written (tests, spot checks) without trusting the writer: CSV is
decoded strictly in the declared encoding, XLSX sheets are read with openpyxl and their
headers compared, so a file that does not read back as declared fails loudly here.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


def read_rows(root: Path, entry: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """(header, rows) of one manifest file entry; blanks become None, XLSX numbers stay numbers."""
    path = root / entry["path"]
    fmt = entry["format"]
    if fmt == "csv":
        text = path.read_bytes().decode(entry["encoding"], errors="strict")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader)
        return header, [
            {k: (v if v != "" else None) for k, v in zip(header, row, strict=True)}
            for row in reader
        ]
    if fmt == "jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return list(entry["columns"]), rows
    if fmt == "parquet":
        table = pq.read_table(path)
        return table.column_names, table.to_pylist()
    if fmt == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        columns: list[str] = []
        out: list[dict[str, Any]] = []
        for sheet in book.worksheets:
            values = sheet.iter_rows(values_only=True)
            first = [str(v) for v in next(values)]
            if columns and first != columns:
                raise ValueError(f"{path.name}: sheet {sheet.title} has a different header")
            columns = first
            width = len(columns)
            out.extend(
                # Trailing empty cells are not stored, so short rows are padded back.
                {
                    k: (v if v != "" else None)
                    for k, v in zip(columns, (*row, *[None] * width), strict=False)
                }
                for row in values
            )
        book.close()
        return columns, out
    raise ValueError(f"unknown format {fmt}")
