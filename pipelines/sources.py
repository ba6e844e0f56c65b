"""Looking at a source file before Spark does: format, encoding, header and schema drift.

Spark reads a GB18030 file declared as UTF-8 without complaint and yields mojibake, so the
encoding is checked here with a strict decoder over the whole file. Headers are compared with
the catalogue's data items so that a new, renamed or missing column stops the batch with a
precise message instead of being absorbed.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks.plan import IngestPlan
from lake.errors import EncodingMismatch, SchemaDrift, SourceUnreadable

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
}
TEXT_FORMATS = ("csv", "jsonl")
_CHUNK = 1 << 22
ENCODING_ALIASES = {"utf8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030", "gb2312": "gb18030"}


def normalise_encoding(name: str) -> str:
    lowered = name.strip().lower()
    return ENCODING_ALIASES.get(lowered, lowered)


def clean_header(name: str) -> str:
    """Headers as stewards type them: full-width, BOM and stray spaces removed."""
    return unicodedata.normalize("NFKC", name).replace("\ufeff", "").strip()


def file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def detect_format(path: Path, declared: str | None) -> str:
    if declared:
        return declared
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise SourceUnreadable(
            f"无法识别的文件格式 (unknown file format) '{path.suffix}'："
            "支持 CSV、XLSX、JSON Lines、Parquet"
        )
    return found


def _decodes(path: Path, encoding: str) -> tuple[bool, int, int]:
    """(ok, byte offset of the first bad byte, line number) with a strict incremental decoder."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    line = 1
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as error:
                prefix = chunk[: error.start]
                return False, offset + error.start, line + prefix.count(b"\n")
            line += text.count("\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, offset, line
    return True, -1, line


def check_encoding(path: Path, declared: str) -> str:
    """Refuse a file that does not decode strictly in its declared encoding; say what it is."""
    encoding = normalise_encoding(declared)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SourceUnreadable(f"挂接配置的编码无效 (unknown encoding) '{declared}'") from None
    ok, offset, line = _decodes(path, encoding)
    if ok:
        return encoding
    hint = ""
    for other in ("utf-8", "gb18030"):
        if other != encoding and _decodes(path, other)[0]:
            hint = (
                f"；该文件可按 {other.upper()} 解码，请核对挂接配置的编码 (it decodes as {other})"
            )
            break
    raise EncodingMismatch(
        f"文件 {path.name} 不是有效的 {encoding.upper()} 编码："
        f"第 {line} 行，字节偏移 {offset}{hint} "
        f"(not valid {encoding} at line {line}, byte {offset})"
    )


IGNORED_PREFIX = "__ignored_"


@dataclass
class SourceShape:
    """What the file says about itself before any row is parsed, and how its columns become
    the resource's data items (the mount's mapping applied to this file's headers)."""

    format: str
    encoding: str
    headers: list[str]  # as in the file, cleaned
    mapping: dict[str, str] = field(default_factory=dict)  # file header -> data item
    ignored: list[str] = field(default_factory=list)  # file headers the mount drops
    defaults: dict[str, Any] = field(default_factory=dict)  # item missing from the file -> value
    header_row: int = 1
    sheet: str | None = None  # XLSX: the sheet read
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    blank_rows: tuple[int, ...] | None = None  # XLSX: skipped empty rows, found on demand
    path: Path | None = None

    @property
    def plain_csv(self) -> bool:
        """Laid out as the byte-range reader reads (RFC 4180, header on line 1, no column
        filled by a default)."""
        return (self.delimiter, self.quote, self.escape, self.header_row) == (
            ",",
            '"',
            '"',
            1,
        ) and not self.defaults

    @property
    def columns(self) -> tuple[str, ...]:
        """A name for every column of the file, in order: its data item, or a placeholder for
        a column the mount ignores (read, never kept)."""
        return tuple(
            self.mapping.get(h, f"{IGNORED_PREFIX}{i}") for i, h in enumerate(self.headers)
        )

    def line_of(self, row_number: int) -> int:
        """The line (CSV) or Excel row a data row sits on: what a person sees in the file.

        ``_row_number`` counts data rows from 1; the header and any title rows above it come
        first, and an XLSX reader skips empty rows, so they are counted back in here.
        """
        if self.format == "jsonl" or self.format == "parquet":
            return row_number
        line = self.header_row + row_number
        if self.format == "xlsx":
            if self.blank_rows is None:
                from pipelines.xlsx import blank_rows

                assert self.path is not None
                self.blank_rows = tuple(blank_rows(self.path, self.sheet, self.header_row))
            for blank in self.blank_rows:
                if blank <= line:
                    line += 1
        return line

    def where(self, row_number: int) -> str:
        """A data row's place as a person finds it: 「文件第 12 行」, 「工作表「登记」第 12 行」."""
        if self.format == "parquet":
            return f"第 {row_number} 条记录"
        if self.format == "xlsx":
            return f"工作表「{self.sheet}」第 {self.line_of(row_number)} 行"
        return f"文件第 {self.line_of(row_number)} 行"

    def cell(self, item: str, row_number: int) -> str | None:
        """The Excel cell (``D12``) holding a data item of a data row; None outside XLSX or
        for an item filled by a default."""
        if self.format != "xlsx":
            return None
        header = next((h for h, i in self.mapping.items() if i == item), None)
        if header is None:
            return None
        from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

        return f"{get_column_letter(self.headers.index(header) + 1)}{self.line_of(row_number)}"

    def locate(self, row_number: int | None, items: Sequence[str] = ()) -> dict[str, Any]:
        """Where a failing row is, for reports: line, and for XLSX the sheet and cells."""
        if row_number is None:
            return {}
        place: dict[str, Any] = {"line": self.line_of(row_number), "where": self.where(row_number)}
        if self.format == "xlsx":
            place["sheet"] = self.sheet
            cells = {i: c for i in items if (c := self.cell(i, row_number)) is not None}
            if cells:
                place["cells"] = cells
        return place


def _csv_header_line(path: Path, encoding: str, header_row: int) -> str:
    with path.open("r", encoding=encoding, newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if number == header_row:
                return line
    return ""


def read_headers(
    path: Path,
    fmt: str,
    encoding: str,
    *,
    header_row: int = 1,
    sheet: str | None = None,
    delimiter: str = ",",
    quote: str = '"',
) -> list[str]:
    if fmt == "csv":
        first = _csv_header_line(path, encoding, header_row)
        reader = csv.reader(io.StringIO(first), delimiter=delimiter, quotechar=quote)
        return [clean_header(h) for h in next(reader, [])]
    if fmt == "jsonl":
        keys: dict[str, None] = {}
        with path.open("r", encoding=encoding) as handle:
            for number, line in enumerate(handle, start=1):
                if number > 1000:
                    break
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise SourceUnreadable(
                        f"JSON Lines 第 {number} 行不是合法 JSON (line {number}: {error.msg})"
                    ) from None
                if not isinstance(record, dict):
                    raise SourceUnreadable(f"JSON Lines 第 {number} 行不是对象 (line {number})")
                keys.update(dict.fromkeys(clean_header(k) for k in record))
        return list(keys)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return [clean_header(n) for n in pq.read_schema(path).names]
        except Exception as error:
            raise SourceUnreadable(
                f"Parquet 文件无法读取 (unreadable parquet): {type(error).__name__}"
            ) from None
    if fmt == "xlsx":
        from pipelines.xlsx import header_cells

        return [clean_header(h) for h in header_cells(path, sheet, header_row)]
    raise SourceUnreadable(f"不支持的格式 (unsupported format) {fmt}")


@dataclass
class ColumnMatch:
    """How a file's headers meet a resource's items under a mount's mapping."""

    mapping: dict[str, str]  # file header -> data item
    ignored: list[str]  # headers the mount drops
    defaults: dict[str, Any]  # items missing from the file, filled by the mount's default
    extra: list[str]  # headers that map to nothing and are not ignored
    missing: list[str]  # items neither in the file nor defaulted
    renamed: list[str]  # "header → item？" guesses among extra and missing


def match_columns(plan: IngestPlan, headers: list[str]) -> ColumnMatch:
    """The one reading of a mount's mapping, ignored columns and defaults; reports, never
    raises (``mounts preview`` shows it, :func:`map_columns` refuses on drift)."""
    mapping = {clean_header(k): v for k, v in plan.column_mapping.items()}
    ignore = {clean_header(c) for c in plan.ignore_columns}
    items = plan.item_names
    resolved: dict[str, str] = {}
    extra: list[str] = []
    ignored: list[str] = []
    for header in headers:
        if header in ignore:
            ignored.append(header)
            continue
        target = mapping.get(header, header)
        if target in items and target not in resolved.values():
            resolved[header] = target
        else:
            extra.append(header)
    absent = [i for i in items if i not in resolved.values()]
    defaults = {i: plan.defaults[i] for i in absent if i in plan.defaults}
    missing = [i for i in absent if i not in defaults]
    renamed = []
    for column in extra:
        guess = difflib.get_close_matches(column, missing, n=1, cutoff=0.3)
        if guess:
            renamed.append(f"{column} → {guess[0]}？")
    return ColumnMatch(resolved, ignored, defaults, extra, missing, renamed)


def map_columns(plan: IngestPlan, headers: list[str]) -> ColumnMatch:
    """Match file headers to data items by name or the mount's mapping; drift is an error."""
    duplicates = sorted({h for h in headers if headers.count(h) > 1})
    if duplicates:
        raise SchemaDrift(f"文件中有重复的列名 (duplicate columns): {'、'.join(duplicates)}")
    found = match_columns(plan, headers)
    extra, missing, renamed = found.extra, found.missing, found.renamed
    if not extra and not missing:
        return found
    parts = []
    if missing:
        parts.append(f"缺少列 (missing): {'、'.join(missing)}")
    if extra:
        parts.append(f"多出列 (new): {'、'.join(extra)}")
    if renamed:
        parts.append(f"疑似改名 (renamed?): {'、'.join(renamed)}")
    raise SchemaDrift(
        f"文件列与目录信息项不一致，整批拒收 (schema drift against {plan.resource_code}): "
        + "；".join(parts)
        + "。如是改名、多余列或缺少的选填列，可用 govshare mounts set 配置映射 "
        "(map, ignore or default them with govshare mounts set)",
        details={"missing": missing, "new": extra, "renamed": renamed},
    )


def _shape(
    path: Path, plan: IngestPlan, fmt: str, encoding: str, headers: list[str], found: ColumnMatch
) -> SourceShape:
    """The shape of a file whose format, encoding, headers and column match are known."""
    sheet = plan.sheet
    if fmt == "xlsx" and sheet is None:
        from pipelines.xlsx import first_sheet

        sheet = first_sheet(path)
    return SourceShape(
        fmt,
        encoding,
        headers,
        found.mapping,
        ignored=found.ignored,
        defaults=found.defaults,
        header_row=plan.header_row,
        sheet=sheet,
        delimiter=plan.delimiter,
        quote=plan.quote,
        escape=plan.escape,
        path=path,
    )


def inspect_source(path: Path, plan: IngestPlan) -> SourceShape:
    if not path.exists():
        raise SourceUnreadable(f"源文件不存在 (no such file): {path}")
    fmt = detect_format(path, plan.format)
    encoding = check_encoding(path, plan.encoding) if fmt in TEXT_FORMATS else "binary"
    headers = read_headers(
        path,
        fmt,
        encoding,
        header_row=plan.header_row,
        sheet=plan.sheet,
        delimiter=plan.delimiter,
        quote=plan.quote,
    )
    if not headers:
        raise SourceUnreadable(f"文件 {path.name} 没有表头 (no header row)")
    return _shape(path, plan, fmt, encoding, headers, map_columns(plan, headers))


def read_frame(
    spark: SparkSession, path: Path, shape: SourceShape, *, workdir: Path | None = None
) -> DataFrame:
    """The file as string columns named after the data items: every reader's one way in.

    The ingest job, ``quality run --file`` and so the DAGs read departmental files here, so a
    mount's encoding, layout, mapping, ignored columns and defaults mean the same everywhere.
    Values are as received (the raw layer keeps them so); units convert when values are typed
    (``checks.standardise.typed``). A CSV whose header is below line 1 is read from a copy
    without the title lines, written under ``workdir``, which must outlive the frame.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    columns = shape.columns
    schema = StructType([StructField(c, StringType(), True) for c in columns])
    if shape.format == "csv":
        source = path
        if shape.header_row > 1:
            if workdir is None:
                raise SourceUnreadable("表头不在第 1 行的 CSV 需要工作目录 (workdir needed)")
            source = _without_title_lines(path, shape.header_row, workdir)
        frame = (
            spark.read.option("header", True)
            .option("encoding", shape.encoding)
            .option("sep", shape.delimiter)
            .option("quote", shape.quote)
            # RFC 4180 (Excel, Python's csv): a quote inside a quoted field is doubled. Spark's
            # default escape is a backslash, which split such fields and shifted the row.
            .option("escape", shape.escape)
            .option("mode", "PERMISSIVE")
            .option("multiLine", False)
            .option("enforceSchema", True)
            .schema(schema)
            .csv(str(source))
        )
    elif shape.format == "jsonl":
        # JSON fields are matched by name: read them by their own headers, then rename.
        by_header = StructType([StructField(h, StringType(), True) for h in shape.headers])
        reader = spark.read.option("encoding", shape.encoding).schema(by_header)
        frame = reader.json(str(path)).toDF(*columns)
    elif shape.format == "parquet":
        frame = spark.read.parquet(str(path))
        frame = frame.select(
            *(F.col(f"`{c}`").cast("string").alias(c) for c in frame.columns)
        ).toDF(*columns)
    elif shape.format == "xlsx":
        import pyarrow as pa

        from pipelines.xlsx import read_strings

        table = pa.Table.from_batches(
            list(read_strings(path, list(columns), sheet=shape.sheet, header_row=shape.header_row))
        )
        frame = spark.createDataFrame(table)
    else:  # pragma: no cover - detect_format only yields the formats above
        raise SourceUnreadable(f"不支持的格式 (unsupported format) {shape.format}")
    mapped = [F.col(f"`{shape.mapping[h]}`") for h in shape.headers if h in shape.mapping]
    filled = [
        F.lit(None if value is None else str(value)).cast("string").alias(item)
        for item, value in shape.defaults.items()
    ]
    return frame.select(*mapped, *filled)


def _without_title_lines(path: Path, header_row: int, workdir: Path) -> Path:
    """A copy of the file from its header line on (a sequential byte copy)."""
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / path.name
    with path.open("rb") as source, target.open("wb") as out:
        for _ in range(header_row - 1):
            source.readline()
        while chunk := source.read(_CHUNK):
            out.write(chunk)
    return target


# ---- preview ------------------------------------------------------------------------------


def detect_encoding(path: Path, declared: str) -> str | None:
    """The first of the declared encoding, UTF-8 and GB18030 the whole file decodes in
    strictly; None when none does."""
    for candidate in dict.fromkeys((normalise_encoding(declared), "utf-8", "gb18030")):
        try:
            codecs.lookup(candidate)
        except LookupError:
            continue
        if _decodes(path, candidate)[0]:
            return candidate
    return None


def _first_rows(path: Path, shape: SourceShape, limit: int) -> list[tuple[int, list[Any]]]:
    """(line, cells) of the first data rows, read the way the ingest job reads them."""
    out: list[tuple[int, list[Any]]] = []
    if shape.format == "csv":
        with path.open("r", encoding=shape.encoding, newline="") as handle:
            for _ in range(shape.header_row):
                handle.readline()
            reader = csv.reader(handle, delimiter=shape.delimiter, quotechar=shape.quote)
            for number, cells in enumerate(reader, start=1):
                if number > limit:
                    break
                out.append((shape.line_of(number), [c if c != "" else None for c in cells]))
    elif shape.format == "xlsx":
        from pipelines.xlsx import read_strings

        batches = read_strings(
            path, list(shape.columns), sheet=shape.sheet, header_row=shape.header_row, chunk=limit
        )
        first = next(iter(batches), None)
        if first is not None:
            for number, row in enumerate(first.to_pylist()[:limit], start=1):
                out.append((shape.line_of(number), [row[c] for c in shape.columns]))
    elif shape.format == "jsonl":
        with path.open("r", encoding=shape.encoding) as handle:
            number = 0
            for line in handle:
                if not line.strip():
                    continue
                number += 1
                if number > limit:
                    break
                record = {clean_header(k): v for k, v in json.loads(line).items()}
                out.append((number, [record.get(h) for h in shape.headers]))
    elif shape.format == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path).slice(0, limit)
        for number, row in enumerate(table.to_pylist(), start=1):
            out.append((number, [row.get(h) for h in table.column_names]))
    return out


def preview_source(path: Path, plan: IngestPlan, *, rows: int = 5) -> dict[str, Any]:
    """How a file would map onto the resource under the mount's config, before any ingest:
    the encoding found, each column's fate, the items missing, and the first rows mapped.

    Unlike :func:`inspect_source` nothing is refused: drift and a wrong encoding are reported
    so the mapping can be fixed (``govshare mounts set``) before the file is sent.
    """
    from checks.standardise import standardised_text, typed

    if not path.exists():
        raise SourceUnreadable(f"源文件不存在 (no such file): {path}")
    fmt = detect_format(path, plan.format)
    declared = normalise_encoding(plan.encoding)
    detected = detect_encoding(path, plan.encoding) if fmt in TEXT_FORMATS else None
    encoding = (detected or declared) if fmt in TEXT_FORMATS else "binary"
    if fmt in TEXT_FORMATS and detected is None:
        raise SourceUnreadable(
            f"文件 {path.name} 既不是 {declared.upper()}，也不是 UTF-8 或 GB18030 编码 "
            "(undecodable in the declared encoding, UTF-8 and GB18030)"
        )
    headers = read_headers(
        path,
        fmt,
        encoding,
        header_row=plan.header_row,
        sheet=plan.sheet,
        delimiter=plan.delimiter,
        quote=plan.quote,
    )
    found = match_columns(plan, headers)
    shape = _shape(path, plan, fmt, encoding, headers, found)
    items = {i.name: i for i in plan.items}
    mapped_rows: list[dict[str, Any]] = []
    for line, cells in _first_rows(path, shape, rows):
        values: dict[str, Any] = {"_line": line}
        for index, header in enumerate(headers):
            item = found.mapping.get(header)
            if item is None:
                continue
            raw = cells[index] if index < len(cells) else None
            values[item] = raw
            spec = items[item]
            if spec.factor is not None and raw is not None:
                converted = typed(spec, standardised_text(spec, pa_string([str(raw)])))[0]
                values[item] = f"{raw} → {converted.as_py()}"
        for item, value in found.defaults.items():
            values[item] = value
        mapped_rows.append(values)
    return {
        "file": str(path),
        "resource_code": plan.resource_code,
        "format": fmt,
        "declared_encoding": declared if fmt in TEXT_FORMATS else None,
        "detected_encoding": detected,
        "encoding_ok": fmt not in TEXT_FORMATS or detected == declared,
        "header_row": plan.header_row,
        "sheet": shape.sheet,
        "columns": [
            {
                "column": header,
                "item": found.mapping.get(header),
                "fate": "映射"
                if header in found.mapping and found.mapping[header] != header
                else "同名"
                if header in found.mapping
                else "忽略"
                if header in found.ignored
                else "未匹配",
            }
            for header in headers
        ],
        "unmatched_columns": found.extra,
        "missing_items": found.missing,
        "renamed_guesses": found.renamed,
        "defaults": found.defaults,
        "units": plan.units,
        "would_ingest": not found.extra and not found.missing and detected == declared
        if fmt in TEXT_FORMATS
        else not found.extra and not found.missing,
        "rows": mapped_rows,
    }


def pa_string(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, pa.string())
