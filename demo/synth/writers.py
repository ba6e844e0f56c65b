"""Streaming writers for the four delivery formats, one chunk at a time.

CSV and JSON lines are assembled with Arrow string kernels (quote only what needs quoting,
escape JSON once per column) and written as one buffer per chunk, so ten million rows never
exist as Python objects. GB18030 is produced by re-encoding each chunk's buffer. Every writer
is deterministic: XLSX archives get fixed timestamps so the same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from catalog.domain import DataType

XLSX_SHEET_ROWS = 1_000_000  # Excel's limit is 1,048,576 rows a sheet, header included
_NUMERIC = {DataType.MONEY, DataType.INTEGER, DataType.NUMBER, DataType.DOUBLE, DataType.FLOAT}
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


class ChunkWriter(Protocol):
    def write(self, table: pa.Table) -> None: ...

    def close(self) -> dict[str, Any]: ...


def _buffer_of(lines: pa.Array) -> bytes:
    """The bytes of a string array's values laid end to end (each already ends in a newline)."""
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    if len(lines) == 0:
        return b""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    return lines.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


def _csv_cells(column: pa.Array) -> pa.Array:
    needs = pc.match_substring_regex(column, r'[",\r\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
    return pc.fill_null(pc.if_else(needs, quoted, column), "")


def csv_lines(table: pa.Table, newline: str) -> bytes:
    """RFC 4180 lines: a field is quoted only when it contains a quote, comma or line break."""
    cells = [_csv_cells(col.combine_chunks()) for col in table.columns]
    joined = pc.binary_join_element_wise(*cells, ",")
    return _buffer_of(pc.binary_join_element_wise(joined, pa.scalar(newline), ""))


def csv_header(columns: list[str], newline: str) -> bytes:
    cells = ['"' + c.replace('"', '""') + '"' if re.search(r'[",\r\n]', c) else c for c in columns]
    return (",".join(cells) + newline).encode("utf-8")


def _json_values(column: pa.Array) -> pa.Array:
    escaped = column
    for raw, esc in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        escaped = pc.replace_substring(escaped, raw, esc)
    return pc.fill_null(pc.binary_join_element_wise('"', escaped, '"', ""), "null")


def jsonl_lines(table: pa.Table, columns: list[str]) -> bytes:
    """One JSON object per line, keys in catalogue order, text values, null for blanks."""
    parts: list[Any] = []
    for i, (name, col) in enumerate(zip(columns, table.columns, strict=True)):
        key = json.dumps(name, ensure_ascii=False)
        parts.append(("{" if i == 0 else ",") + key + ":")
        parts.append(_json_values(col.combine_chunks()))
    parts.append("}\n")
    return _buffer_of(pc.binary_join_element_wise(*parts, ""))


class CsvWriter:
    def __init__(self, path: Path, columns: list[str], *, encoding: str) -> None:
        self.encoding = encoding
        # Windows-built exports (GB18030) end lines with CRLF; the others with LF.
        self.newline = "\r\n" if encoding == "gb18030" else "\n"
        self.file: BinaryIO = path.open("wb")
        if encoding == "utf-8-sig":
            self.file.write(b"\xef\xbb\xbf")
        self._put(csv_header(columns, self.newline))

    def _put(self, data: bytes) -> None:
        if self.encoding == "gb18030":
            data = data.decode("utf-8").encode("gb18030")
        self.file.write(data)

    def write(self, table: pa.Table) -> None:
        self._put(csv_lines(table, self.newline))

    def close(self) -> dict[str, Any]:
        self.file.close()
        return {"encoding": self.encoding, "newline": "CRLF" if self.newline == "\r\n" else "LF"}


class JsonlWriter:
    def __init__(self, path: Path, columns: list[str]) -> None:
        self.columns = columns
        self.file: BinaryIO = path.open("wb")

    def write(self, table: pa.Table) -> None:
        self.file.write(jsonl_lines(table, self.columns))

    def close(self) -> dict[str, Any]:
        self.file.close()
        return {"encoding": "utf-8", "newline": "LF"}


class ParquetWriter:
    """All columns as strings: the extract carries values as the source system wrote them."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.schema = pa.schema([pa.field(c, pa.string()) for c in columns])
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(pa.Table.from_arrays(table.columns, schema=self.schema))

    def close(self) -> dict[str, Any]:
        self.writer.close()
        return {}


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose members all carry one timestamp, so identical content gives identical bytes."""

    def writestr(self, zinfo_or_arcname: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = self._info(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        with (
            open(filename, "rb") as src,
            self.open(self._info(str(arcname or filename)), "w", force_zip64=True) as dst,
        ):
            shutil.copyfileobj(src, dst, 1 << 20)

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        return info


class XlsxWriter:
    """openpyxl write-only sheets of at most ``sheet_rows`` data rows, each with the header.

    Amounts and counts go in as numbers and text as text, the way a clerk's spreadsheet holds
    them; a date that was typed as an Excel serial number is a numeric cell too.
    """

    def __init__(
        self,
        path: Path,
        columns: list[str],
        *,
        title: str,
        types: list[DataType | None],
        moment: dt.datetime,
        sheet_rows: int = XLSX_SHEET_ROWS,
    ) -> None:
        from openpyxl import Workbook

        self.path = path
        self.columns = columns
        self.title = title[:28]
        self.types = types
        self.sheet_rows = sheet_rows
        self.workbook = Workbook(write_only=True)
        self.workbook.properties.creator = "govshare synth"
        self.workbook.properties.created = moment
        self.moment = moment
        self.sheets: list[dict[str, Any]] = []
        self.sheet: Any = None
        self.in_sheet = 0
        self.total = 0

    def _new_sheet(self) -> None:
        number = len(self.sheets) + 1
        name = self.title if number == 1 else f"{self.title}({number})"
        self.sheet = self.workbook.create_sheet(title=name)
        self.sheet.append(self.columns)
        self.sheets.append({"name": name, "first_row": self.total + 1, "rows": 0})
        self.in_sheet = 0

    def _convert(self, values: list[Any], kind: DataType | None) -> list[Any]:
        if kind in _NUMERIC:
            return [
                (float(v) if "." in v else int(v)) if v is not None and _NUMBER.fullmatch(v) else v
                for v in values
            ]
        if kind is DataType.DATE:  # Excel serial numbers (five digits) are numeric cells
            return [int(v) if v is not None and v.isdigit() and len(v) <= 6 else v for v in values]
        return values

    def write(self, table: pa.Table) -> None:
        columns = [
            self._convert(col.to_pylist(), kind)
            for col, kind in zip(table.columns, self.types, strict=True)
        ]
        for row in zip(*columns, strict=True):
            if self.sheet is None or self.in_sheet >= self.sheet_rows:
                self._new_sheet()
            self.sheet.append(row)
            self.in_sheet += 1
            self.sheets[-1]["rows"] += 1
            self.total += 1

    def close(self) -> dict[str, Any]:
        from openpyxl.writer.excel import ExcelWriter

        if self.sheet is None:
            self._new_sheet()
        self.workbook.properties.modified = self.moment
        with _FixedTimeZip(self.path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            ExcelWriter(self.workbook, archive).save()
        return {"sheets": self.sheets}


def open_writer(
    fmt: str,
    path: Path,
    columns: list[str],
    *,
    encoding: str | None,
    title: str,
    types: list[DataType | None],
    moment: dt.datetime,
    sheet_rows: int = XLSX_SHEET_ROWS,
) -> ChunkWriter:
    if fmt == "csv":
        return CsvWriter(path, columns, encoding=encoding or "utf-8")
    if fmt == "jsonl":
        return JsonlWriter(path, columns)
    if fmt == "parquet":
        return ParquetWriter(path, columns)
    if fmt == "xlsx":
        return XlsxWriter(
            path, columns, title=title, types=types, moment=moment, sheet_rows=sheet_rows
        )
    raise ValueError(fmt)
