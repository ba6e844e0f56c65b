"""Reading a catalogue file into rows of raw cells, before any value is judged.

Three shapes come in: an .xlsx workbook, CSV files (one per sheet, UTF-8 or GB18030), and our
own JSON export. Each becomes the same :class:`Source` of tables, so one validator serves all.
A CSV's encoding is found by strict decoding, never guessed leniently: a GB18030 file read as
UTF-8 yields no error, only mojibake, and mojibake must never reach the catalogue.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.transfer.errors import UnreadableSource
from catalog.transfer.template import (
    CHECKS,
    DEPARTMENTS,
    DUTIES,
    ITEMS,
    RESOURCES,
    SHEETS,
    THEME_DERIVED,
    THEMES,
    Issue,
    SheetSpec,
    cell_text,
    header_matches,
    is_blank,
    sheet_for_name,
)

HEADER_SEARCH_ROWS = 5  # a title row (or a few) may sit above the header
MIN_HEADER_MATCHES = 2
DETECT_BY_HEADERS = 3  # an oddly named sheet is taken for a template sheet with this many
# A workbook is a zip: refuse one that would inflate past this before parsing any XML of it.
MAX_WORKBOOK_BYTES = 256 * 1024 * 1024


@dataclass
class Row:
    """A data row: its location and its non-blank cells keyed by schema field."""

    sheet: str
    number: int
    values: dict[str, Any]


@dataclass
class Table:
    """One template sheet as found in the file; ``labels`` maps fields to headers as written."""

    spec: SheetSpec
    name: str
    header_row: int | None
    labels: dict[str, str]
    rows: list[Row] = field(default_factory=list)

    def label(self, field_name: str) -> str:
        return self.labels.get(field_name) or self.spec.label(field_name)


@dataclass
class Source:
    """Everything read from the files, plus what is wrong with their structure."""

    description: str
    tables: dict[str, Table] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


# ---- tabular sheets (xlsx and CSV) -----------------------------------------------------


def _find_header(spec: SheetSpec, rows: Sequence[Sequence[Any]]) -> int | None:
    """Index of the row naming the most template columns among the first few, if any."""
    best, best_index = 0, None
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = header_matches(spec, cells)
        if score > best:
            best, best_index = score, index
    return best_index if best >= MIN_HEADER_MATCHES else None


def read_table(
    source: Source, spec: SheetSpec, name: str, rows: Sequence[Sequence[Any]], *, hint: str = ""
) -> None:
    """Turn a sheet's raw rows into a :class:`Table`; structural problems go to ``source``."""
    header_index = _find_header(spec, rows)
    if header_index is None:
        source.errors.append(
            Issue(
                sheet=name,
                row=None,
                column="",
                message="前 5 行中找不到表头（标准列名）(no header row with the template's "
                f"column names in the first 5 rows){hint}",
            )
        )
        return
    header_row = header_index + 1
    columns: dict[int, str] = {}
    labels: dict[str, str] = {}
    for position, cell in enumerate(rows[header_index]):
        if is_blank(cell):
            continue
        text = cell_text(cell)
        column = spec.match(cell)
        if column is None:
            source.warnings.append(
                Issue(
                    sheet=name,
                    row=header_row,
                    column=text,
                    message="未识别的列，已忽略 (column not in the template, ignored)",
                )
            )
        elif column.field in labels:
            source.errors.append(
                Issue(
                    sheet=name,
                    row=header_row,
                    column=text,
                    message=f"与「{labels[column.field]}」是同一列，列重复 (duplicate column)",
                )
            )
        else:
            columns[position] = column.field
            labels[column.field] = text
    for column in spec.columns:
        if column.required and column.field not in labels:
            source.errors.append(
                Issue(
                    sheet=name,
                    row=header_row,
                    column=column.header,
                    message="缺少必需的列 (required column missing)",
                )
            )
    table = Table(spec=spec, name=name, header_row=header_row, labels=labels)
    for offset, cells in enumerate(rows[header_index + 1 :], start=header_row + 1):
        values = {
            columns[i]: cell for i, cell in enumerate(cells) if i in columns and not is_blank(cell)
        }
        if values:
            table.rows.append(Row(sheet=name, number=offset, values=values))
    source.tables[spec.key] = table


def read_xlsx(path: Path) -> Source:
    """Every worksheet named like a template sheet, or whose header row says it is one."""
    from openpyxl import load_workbook  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    unreadable = UnreadableSource(
        f"无法读取工作簿 {path.name}：文件已损坏或不是 .xlsx 格式 (not a readable .xlsx workbook)"
    )
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise unreadable from None
    if inflated > MAX_WORKBOOK_BYTES:
        raise UnreadableSource(
            f"工作簿 {path.name} 解压后超过 {MAX_WORKBOOK_BYTES // 2**20} MB，请拆分后导入 "
            "(workbook too large once decompressed)"
        )
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise unreadable from None
    source = Source(description=path.name)
    try:
        sheets: list[tuple[str, list[tuple[Any, ...]]]] = []
        for worksheet in workbook.worksheets:
            # Dimensions written by other tools are often wrong and would cut columns off.
            worksheet.reset_dimensions()
            sheets.append((worksheet.title, list(worksheet.iter_rows(values_only=True))))
    finally:
        workbook.close()
    unclaimed: list[tuple[str, list[tuple[Any, ...]]]] = []
    for title, rows in sheets:
        spec = sheet_for_name(title)
        if spec is not None and spec.key not in source.tables:
            read_table(source, spec, title, rows)
        else:
            unclaimed.append((title, rows))
    for title, rows in unclaimed:
        spec = _spec_by_headers(rows, exclude=set(source.tables))
        if spec is not None:
            read_table(source, spec, title, rows)
        elif any(not is_blank(c) for r in rows for c in r):
            source.warnings.append(
                Issue(
                    sheet=title,
                    row=None,
                    column="",
                    message="工作表不是模板中的表，已忽略 (sheet not in the template, ignored)",
                )
            )
    if not source.tables:
        raise UnreadableSource(
            f"工作簿 {path.name} 中没有模板中的工作表（信息资源、信息项、部门、职责）"
            "(no template sheet found)"
        )
    return source


def _spec_by_headers(rows: Sequence[Sequence[Any]], *, exclude: set[str]) -> SheetSpec | None:
    scores = [
        (max((header_matches(spec, r) for r in rows[:HEADER_SEARCH_ROWS]), default=0), spec)
        for spec in SHEETS
        if spec.key not in exclude
    ]
    scores = [(score, spec) for score, spec in scores if score >= DETECT_BY_HEADERS]
    return max(scores, key=lambda pair: pair[0])[1] if scores else None


# ---- CSV -------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _strict(data: bytes, encoding: str) -> str:
    """Decode or raise UnicodeDecodeError; a NUL character counts as a failure, because text
    CSVs never hold one and UTF-16 read as a byte encoding is full of them."""
    text = data.decode(encoding)
    nul = text.find("\x00")
    if nul >= 0:
        offset = len(text[:nul].encode(encoding))
        raise UnicodeDecodeError(encoding, data, offset, offset + 1, "NUL character")
    return text


def decode_csv(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and the encoding it was read with: UTF-8 (BOM or not), then GB18030.

    A file that decodes in neither is refused with the byte offset where decoding failed, so
    the steward can find the cell; nothing is ever decoded leniently.
    """
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise UnreadableSource(f"未知的编码 (unknown encoding) {encoding}") from None
        try:
            text = _strict(data, codec)
        except UnicodeDecodeError as error:
            raise UnreadableSource(
                f"文件 {name} 不是 {encoding} 编码：第 {error.start} 字节无法解码 "
                f"(not {encoding}: undecodable byte at offset {error.start})"
            ) from None
        return text.removeprefix("\ufeff"), codec
    if data.startswith(codecs.BOM_UTF8):
        try:
            return _strict(data[len(codecs.BOM_UTF8) :], "utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            offset = error.start + len(codecs.BOM_UTF8)
            raise UnreadableSource(
                f"文件 {name} 以 UTF-8 标记开头，但第 {offset} 字节不是有效的 UTF-8 "
                f"(UTF-8 BOM but undecodable byte at offset {offset})"
            ) from None
    failures: list[str] = []
    for codec in ("utf-8", "gb18030"):
        try:
            return _strict(data, codec), codec
        except UnicodeDecodeError as error:
            failures.append(f"{codec.upper()} 第 {error.start} 字节")
    hint = next((f"；看起来是 {label} 编码" for bom, label in _BOMS if data.startswith(bom)), "")
    raise UnreadableSource(
        f"文件 {name} 既不是 UTF-8 也不是 GB18030 编码（{'，'.join(failures)}无法解码{hint}）。"
        "请另存为 UTF-8，或用 --encoding 指定编码 "
        "(file is neither UTF-8 nor GB18030; save it as UTF-8 or pass --encoding)"
    )


def _csv_rows(text: str) -> list[list[str]]:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _read_csv_into(source: Source, spec: SheetSpec, path: Path, encoding: str | None) -> None:
    if not path.is_file():
        raise UnreadableSource(f"文件不存在 (file not found): {path.name}")
    text, used = decode_csv(path.read_bytes(), path.name, encoding)
    hint = (
        f"；文件按 {used} 解码，如编码不对请用 --encoding 指定 "
        f"(decoded as {used}; pass --encoding if that is wrong)"
    )
    read_table(source, spec, path.name, _csv_rows(text), hint=hint)


def read_csv(
    resources: Path | None,
    *,
    items: Path | None = None,
    departments: Path | None = None,
    duties: Path | None = None,
    encoding: str | None = None,
) -> Source:
    """One CSV per sheet; each file's encoding is detected on its own."""
    files = [
        (spec, path)
        for spec, path in (
            (DEPARTMENTS, departments),
            (DUTIES, duties),
            (RESOURCES, resources),
            (ITEMS, items),
        )
        if path is not None
    ]
    source = Source(description="、".join(path.name for _spec, path in files))
    for spec, path in files:
        _read_csv_into(source, spec, path, encoding)
    return source


def csv_folder(folder: Path) -> dict[str, Path]:
    """The CSV files of a folder named like the template sheets (信息资源.csv, 信息项.csv...)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() != ".csv":
            continue
        spec = sheet_for_name(path.stem)
        if spec is not None:
            found.setdefault(spec.key, path)
    return found


# ---- our own JSON export ---------------------------------------------------------------

_JSON_IGNORED = {
    "resources": {"version", "mounts", "items"},
    "themes": {"derived", "fields", "key"},
}


def _json_labels(spec: SheetSpec) -> dict[str, str]:
    """In JSON a column is named by its field; the items' resource code comes from nesting."""
    return {name: name for name in spec.by_field if not (spec is ITEMS and name == "resource_code")}


def _json_row(
    source: Source, spec: SheetSpec, sheet: str, number: int, obj: Any, ignored: set[str]
) -> Row | None:
    if not isinstance(obj, dict):
        source.errors.append(
            Issue(sheet=sheet, row=number, column="", message="应为对象 (expected an object)")
        )
        return None
    values: dict[str, Any] = {}
    for key, value in obj.items():
        if key in spec.by_field:
            if not is_blank(value):
                values[key] = value
        elif key not in ignored:
            source.warnings.append(
                Issue(
                    sheet=sheet,
                    row=number,
                    column=str(key),
                    message="未识别的字段，已忽略 (unknown field ignored)",
                )
            )
    return Row(sheet=sheet, number=number, values=values)


def read_json(path: Path) -> Source:
    """A document {"departments": [...], "duties": [...], "resources": [...]} as exported.

    Locations are JSON paths: ``row`` is the 1-based position in the array, and a resource's
    items are the sheet ``resources[n].items`` with n 1-based too.
    """
    try:
        document = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        where = f"第 {error.lineno} 行" if isinstance(error, json.JSONDecodeError) else ""
        raise UnreadableSource(
            f"文件 {path.name} 不是有效的 UTF-8 JSON{where} (not valid UTF-8 JSON)"
        ) from None
    keys = {spec.key for spec in (DEPARTMENTS, DUTIES, RESOURCES)}
    if not isinstance(document, dict) or not keys & set(document):
        raise UnreadableSource(
            f"文件 {path.name} 不是目录导出文件：应含 departments、duties、resources "
            "(not a govshare catalogue export)"
        )
    source = Source(description=path.name)
    items = Table(spec=ITEMS, name="items", header_row=None, labels=_json_labels(ITEMS))
    for spec in (DEPARTMENTS, DUTIES, RESOURCES):
        for _number, obj, row in _json_rows(source, document, spec):
            if spec is RESOURCES:
                _json_items(source, items, row, obj)
    source.tables[ITEMS.key] = items
    _json_themes(source, document)
    return source


def _json_rows(
    source: Source, document: dict[str, Any], spec: SheetSpec
) -> Iterator[tuple[int, dict[str, Any], Row]]:
    """The file's array under ``spec.key`` as the rows of a new table of ``source`` (numbered
    from 1, as the error messages count them); anything but an array is an error, not skipped."""
    entries = document.get(spec.key, [])
    table = Table(spec=spec, name=spec.key, header_row=None, labels=_json_labels(spec))
    source.tables[spec.key] = table
    if not isinstance(entries, list):
        source.errors.append(
            Issue(sheet=spec.key, row=None, column="", message="应为数组 (expected an array)")
        )
        return
    for number, obj in enumerate(entries, start=1):
        row = _json_row(source, spec, spec.key, number, obj, _JSON_IGNORED.get(spec.key, set()))
        if row is not None:
            table.rows.append(row)
            yield number, obj, row


def _json_themes(source: Source, document: dict[str, Any]) -> None:
    """Themes (their derived fields nested, as exported) and 核验事项, when the file has them."""
    if "themes" not in document and "verifications" not in document:
        return
    derived = Table(
        spec=THEME_DERIVED, name="theme_derived", header_row=None,
        labels=_json_labels(THEME_DERIVED),
    )  # fmt: skip
    for spec in (THEMES, CHECKS):
        for number, obj, row in _json_rows(source, document, spec):
            if spec is THEMES and isinstance(obj.get("derived"), list):
                sheet = f"themes[{number}].derived"
                for n, entry in enumerate(obj["derived"], start=1):
                    field_row = _json_row(source, THEME_DERIVED, sheet, n, entry, set())
                    if field_row is not None:
                        field_row.values["theme_code"] = row.values.get("code")
                        derived.rows.append(field_row)
    source.tables[THEME_DERIVED.key] = derived


def _json_items(source: Source, items: Table, resource: Row, obj: dict[str, Any]) -> None:
    sheet = f"resources[{resource.number}].items"
    if obj.get("mounts"):
        source.warnings.append(
            Issue(
                sheet="resources",
                row=resource.number,
                column="mounts",
                message="挂接信息不随目录导入，需重新挂接 (mounts are not imported)",
            )
        )
    entries = obj.get("items", [])
    if not isinstance(entries, list):
        source.errors.append(
            Issue(sheet=sheet, row=None, column="", message="应为数组 (expected an array)")
        )
        return
    for number, entry in enumerate(entries, start=1):
        row = _json_row(source, ITEMS, sheet, number, entry, set())
        if row is not None:
            if "code" in resource.values:
                row.values["resource_code"] = resource.values["code"]
            items.rows.append(row)


# ---- choosing a reader -----------------------------------------------------------------


def read_source(
    path: Path,
    *,
    items: Path | None = None,
    departments: Path | None = None,
    duties: Path | None = None,
    encoding: str | None = None,
) -> Source:
    """Read an .xlsx workbook, a .json export, a resources CSV (with the other sheets as
    options) or a folder of CSVs named like the sheets."""
    extra = [p for p in (items, departments, duties) if p is not None]
    if path.is_dir():
        found = csv_folder(path)
        if not found:
            raise UnreadableSource(
                f"目录 {path.name} 中没有按表命名的 CSV 文件（信息资源.csv、信息项.csv、"
                "部门.csv、职责.csv）(no CSV named like a template sheet)"
            )
        return read_csv(
            found.get(RESOURCES.key),
            items=items or found.get(ITEMS.key),
            departments=departments or found.get(DEPARTMENTS.key),
            duties=duties or found.get(DUTIES.key),
            encoding=encoding,
        )
    if not path.is_file():
        raise UnreadableSource(f"文件不存在 (file not found): {path.name}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        # A lone 部门.csv or 职责.csv is that sheet; any other name is the resources sheet.
        sheets = {DEPARTMENTS.key: departments, DUTIES.key: duties, ITEMS.key: items}
        named = sheet_for_name(path.stem)
        key = named.key if named is not None and sheets.get(named.key, path) is None else ""
        sheets[key or RESOURCES.key] = path
        return read_csv(
            sheets.get(RESOURCES.key),
            items=sheets[ITEMS.key],
            departments=sheets[DEPARTMENTS.key],
            duties=sheets[DUTIES.key],
            encoding=encoding,
        )
    if extra:
        raise UnreadableSource(
            "--items、--departments、--duties 只用于 CSV 导入 (only for CSV imports)"
        )
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    if suffix == ".json":
        return read_json(path)
    if suffix in (".xls", ".et"):
        raise UnreadableSource(
            f"不支持旧版 Excel 格式 {suffix}，请另存为 .xlsx (save the workbook as .xlsx)"
        )
    raise UnreadableSource(
        f"不支持的文件类型 {suffix or '(无扩展名)'}：请用 .xlsx、.csv 或 .json "
        "(use .xlsx, .csv or .json)"
    )


__all__ = [
    "Row",
    "Source",
    "Table",
    "csv_folder",
    "decode_csv",
    "read_csv",
    "read_json",
    "read_source",
    "read_table",
    "read_xlsx",
]
