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
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.errors import EncodingMismatch, SchemaDrift, SourceUnreadable
from pipelines.plan import IngestPlan

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


@dataclass
class SourceShape:
    """What the file says about itself before any row is parsed."""

    format: str
    encoding: str
    headers: list[str]  # as in the file, cleaned
    mapping: dict[str, str] = field(default_factory=dict)  # file header -> data item


def read_headers(path: Path, fmt: str, encoding: str) -> list[str]:
    if fmt == "csv":
        with path.open("r", encoding=encoding, newline="") as handle:
            first = handle.readline()
        return [clean_header(h) for h in next(csv.reader(io.StringIO(first)), [])]
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
        from pipelines.xlsx import header_row

        return [clean_header(h) for h in header_row(path)]
    raise SourceUnreadable(f"不支持的格式 (unsupported format) {fmt}")


def map_columns(plan: IngestPlan, headers: list[str]) -> dict[str, str]:
    """Match file headers to data items by name (or the mount's mapping); drift is an error."""
    mapping = {clean_header(k): v for k, v in plan.column_mapping.items()}
    items = plan.item_names
    resolved: dict[str, str] = {}
    extra: list[str] = []
    duplicates = sorted({h for h in headers if headers.count(h) > 1})
    if duplicates:
        raise SchemaDrift(f"文件中有重复的列名 (duplicate columns): {'、'.join(duplicates)}")
    for header in headers:
        target = mapping.get(header, header)
        if target in items:
            resolved[header] = target
        else:
            extra.append(header)
    missing = [i for i in items if i not in resolved.values()]
    if not extra and not missing:
        return resolved
    renamed = []
    for column in extra:
        guess = difflib.get_close_matches(column, missing, n=1, cutoff=0.3)
        if guess:
            renamed.append(f"{column} → {guess[0]}？")
    parts = []
    if missing:
        parts.append(f"缺少列 (missing): {'、'.join(missing)}")
    if extra:
        parts.append(f"多出列 (new): {'、'.join(extra)}")
    if renamed:
        parts.append(f"疑似改名 (renamed?): {'、'.join(renamed)}")
    raise SchemaDrift(
        f"文件列与目录信息项不一致，整批拒收 (schema drift against {plan.resource_code}): "
        + "；".join(parts),
        details={"missing": missing, "new": extra, "renamed": renamed},
    )


def inspect_source(path: Path, plan: IngestPlan) -> SourceShape:
    if not path.exists():
        raise SourceUnreadable(f"源文件不存在 (no such file): {path}")
    fmt = detect_format(path, plan.format)
    encoding = check_encoding(path, plan.encoding) if fmt in TEXT_FORMATS else "binary"
    headers = read_headers(path, fmt, encoding)
    if not headers:
        raise SourceUnreadable(f"文件 {path.name} 没有表头 (no header row)")
    return SourceShape(fmt, encoding, headers, map_columns(plan, headers))
