"""Small batches in-process: the same task pass and the same files, with no Spark job.

Why: a 100-row extract spent 95 s in its DAG, nearly all of it starting Spark and running
half a dozen tiny Spark jobs. The rules already run on Arrow (``pipelines.classify``); for a
file below ``Settings.ingest_local_max_bytes`` this module feeds the file's Arrow batches to
the very ``BatchTask`` Spark would run, and does the whole-batch steps (duplicate keys,
"unique" rules, the merge) with pyarrow. Above the threshold Spark runs as before and scales
out. A parity test pins that both give the same raw, validated and quarantine rows.

Only what reads exactly as Spark's reader would reads here: CSV without quoted line breaks or
stray quotes (``slices.count_rows`` decides, as for the byte-range path), in any declared
encoding (decoded strictly, then parsed as UTF-8), and Excel sheets (read on the driver by
both engines). Anything else (JSON Lines, Parquet sources, quirky CSV) goes to Spark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lake.errors import PipelineError
from pipelines.classify import DATA_DATE, ERRORS, ROW_NUMBER, LaterFailures, read_parquet
from pipelines.slices import count_rows
from pipelines.sources import SourceShape


def source_batches(
    path: Path, shape: SourceShape, *, max_bytes: int
) -> tuple[list[pa.RecordBatch], int] | None:
    """The file's rows as string columns named after the data items, with the row count an
    independent line count expects; None when only Spark's reader should take the file, or
    when it is larger than ``max_bytes`` (``Settings.ingest_local_max_bytes``: Spark scales out).

    As ``pipelines.sources.read_frame`` reads it for Spark: the mount's mapping, ignored
    columns and defaults; units convert later, when values are typed.
    """
    if path.stat().st_size > max_bytes:
        return None
    columns = list(shape.columns)
    if shape.format == "xlsx":
        from pipelines.xlsx import read_strings

        table = pa.Table.from_batches(
            list(read_strings(path, columns, sheet=shape.sheet, header_row=shape.header_row))
        )
        expected = table.num_rows
    elif shape.format == "csv" and shape.plain_csv:
        read = _plain_csv(path, shape, columns)
        if read is None:
            return None
        table, expected = read
    else:
        return None
    table = table.select([shape.mapping[h] for h in shape.headers if h in shape.mapping])
    for item, value in shape.defaults.items():
        filled = pa.array([None if value is None else str(value)] * table.num_rows, pa.string())
        table = table.append_column(item, filled)
    # Few large batches: each costs a round of compute calls and Parquet writes.
    return table.combine_chunks().to_batches(max_chunksize=256 * 1024), expected


def _plain_csv(path: Path, shape: SourceShape, columns: list[str]) -> tuple[pa.Table, int] | None:
    """An RFC 4180 CSV with its header on line 1, parsed as the byte-range path parses it."""
    import io

    import pyarrow.csv as pacsv

    data = path.read_bytes()
    if shape.encoding not in ("utf-8", "utf8"):
        data = data.decode(shape.encoding).encode("utf-8")  # checked strictly before
    body = data[data.find(b"\n") + 1 :] if b"\n" in data else b""
    expected = count_rows(body)
    if expected is None:
        return None
    if expected == 0:  # a header alone: pyarrow calls it an empty CSV, Spark's JVM needn't start
        return pa.table({c: pa.array([], pa.string()) for c in columns}), 0
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(
                column_names=columns, use_threads=True, block_size=16 << 20
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            # As Spark's reader reads them: an empty field, quoted or not, is null.
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid:
        return None  # a row pyarrow refuses (wrong field count): Spark's reader says which
    return table, expected


def write_table(table: pa.Table, target: Path) -> list[Path]:
    """One Parquet file in ``target`` (replaced if a crashed attempt left one)."""
    import shutil

    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    path = target / "part-00000.parquet"
    pq.write_table(table, path, compression="snappy")
    return [path]


def without_rows(
    files: Sequence[str], failures: Mapping[int, list[str]], target: Path
) -> list[str]:
    table = read_parquet(files)
    failed = pa.array(sorted(failures), pa.int64())
    kept = table.filter(pc.invert(pc.is_in(table.column(ROW_NUMBER), value_set=failed)))
    return [str(p) for p in write_table(kept, target)]


def with_reasons(table: pa.Table, reasons: Mapping[int, list[str]], *, extend: bool) -> pa.Table:
    """``table``'s rows with ``_errors`` set (or extended) from ``reasons`` by row number."""
    numbers = table.column(ROW_NUMBER).to_pylist()
    if extend:
        current = table.column(ERRORS).to_pylist()
        merged = [(c or []) + reasons.get(rn, []) for c, rn in zip(current, numbers, strict=True)]
        return table.set_column(
            table.schema.get_field_index(ERRORS), ERRORS, pa.array(merged, pa.list_(pa.string()))
        )
    errors = pa.array([reasons[rn] for rn in numbers], pa.list_(pa.string()))
    return table.append_column(ERRORS, errors)


def quarantine_later(
    raw_files: Sequence[str],
    failing_files: Sequence[Path],
    later: LaterFailures,
    columns: Sequence[str],
    target: Path,
) -> list[Path]:
    """As ``ingest._quarantine_later``: rows the whole-batch rules failed, from the raw files
    with their reasons; rows already quarantined get those reasons added."""
    parts: list[pa.Table] = []
    newly = later.newly_failing
    if newly:
        raw = read_parquet(raw_files)
        numbers = pa.array(sorted(newly), pa.int64())
        rows = raw.filter(pc.is_in(raw.column(ROW_NUMBER), value_set=numbers))
        parts.append(with_reasons(rows, newly, extend=False).select(list(columns)))
    more = {rn: r for rn, r in later.reasons.items() if rn in later.already_failing}
    if failing_files:
        failing = read_parquet(failing_files)
        if more:
            failing = with_reasons(failing, more, extend=True)
        parts.append(failing.select(list(columns)))
    if not parts:
        return []
    return write_table(pa.concat_tables(parts), target)


def merged(
    current: pa.Table,
    accepted: pa.Table,
    keys: Sequence[str],
    *,
    load: str,
    newest: date | None,
    data_date: date | None,
) -> tuple[pa.Table, int]:
    """The table after an append (new keys only) or a merge (upsert on key, the later data
    date winning), and how many of the batch's rows a newer current row kept out."""
    keys = list(keys)
    if not keys:
        raise PipelineError("合并需要主键 (a merge needs keys)")
    if load == "append":
        seen = current.select(keys).group_by(keys).aggregate([])
        return accepted.join(seen, keys=keys, join_type="left anti"), 0
    superseded = 0
    if newest is not None and data_date is not None and newest > data_date:
        dated = accepted.select(keys).append_column(
            "__batch_date", pa.repeat(pa.scalar(data_date, pa.date32()), accepted.num_rows)
        )
        both = current.select([*keys, DATA_DATE]).join(dated, keys=keys, join_type="inner")
        newer = both.filter(pc.greater(both.column(DATA_DATE), both.column("__batch_date")))
        newer = newer.select(keys).group_by(keys).aggregate([])
        superseded = newer.num_rows
        if superseded:
            accepted = accepted.join(newer, keys=keys, join_type="left anti")
    kept = current.join(accepted.select(keys), keys=keys, join_type="left anti")
    return pa.concat_tables([kept, accepted], promote_options="default"), superseded
