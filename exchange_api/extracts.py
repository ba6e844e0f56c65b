"""Extracts (批量导出) of 无条件共享 resources, streamed as Parquet, Arrow IPC or CSV.

Granted fields only, masked per the grant, read batch by batch from the Delta snapshot and
written to the response as they come: memory stays flat whatever the table's size. The audit
entry is written when the stream ends, with the rows sent and the SHA-256 of the bytes. What the
columns show together follows ``privacy.disclosure`` as profiles do; withheld columns are left
out and named, with the reason, in the ``X-Withheld-Fields`` header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from catalog.domain import ShareType
from exchange_api.exceptions import ShareTypeRefused
from exchange_api.profiles import authorised_fields
from exchange_api.runtime import DataCall, Exchange
from exchange_api.views import ResourceView
from privacy.columnar import served_batch, served_schema
from privacy.disclosure import FieldPlan, Treatment, plan_fields


class ExtractFormat(StrEnum):
    PARQUET = "parquet"
    ARROW = "arrow"
    CSV = "csv"


MEDIA_TYPES = {
    ExtractFormat.PARQUET: "application/vnd.apache.parquet",
    ExtractFormat.ARROW: "application/vnd.apache.arrow.stream",
    ExtractFormat.CSV: "text/csv; charset=utf-8",
}


class _Chunks:
    """A write-only file that hands what was written to the generator, chunk by chunk."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


@dataclass
class Extract:
    """A prepared extract: what the route streams and how the file is named."""

    chunks: Iterator[bytes]
    media_type: str
    filename: str
    withheld: dict[str, str] = field(default_factory=dict)  # column -> reason (Chinese)


def extract(
    ex: Exchange, call: DataCall, *, code: str, fmt: ExtractFormat, fields: Sequence[str] | None
) -> Extract:
    """Authorise now; the returned stream reads, masks, writes and finally audits."""
    with ex.audited(call) as recorder:
        with ex.catalog.unit() as ctx:
            view = ex.view(ctx, code)
            recorder.uses(view)
            if view.share_type is not ShareType.UNCONDITIONAL:
                raise ShareTypeRefused(
                    "仅无条件共享的信息资源提供批量导出，请使用档案查询、核验或统计接口 "
                    "(extracts only for unconditionally shared resources)"
                )
            grant, chosen = authorised_fields(
                ctx, ex, call, recorder, view, fields, what="信息资源"
            )
            access = {n: str(grant.fields[n]) for n in chosen}
        snap = ex.lake.snapshot(view.table)
        detected = snap.identifier_columns()
        plans = plan_fields(view.served_fields(access, detected), ex.disclosure)
        withheld = {
            n: p.reason or "" for n, p in plans.items() if p.treatment is Treatment.WITHHOLD
        }
        present = [n for n in chosen if n in snap.schema.names and n not in withheld]
        recorder.extra["deferred"] = True
    stream = _stream(ex, recorder, view, snap, present, plans, fmt)
    filename = f"{view.table.name}.{'arrow' if fmt is ExtractFormat.ARROW else fmt.value}"
    return Extract(chunks=stream, media_type=MEDIA_TYPES[fmt], filename=filename, withheld=withheld)


def _stream(
    ex: Exchange, recorder: Any, view: ResourceView, snap: Any, columns: list[str],
    plans: Mapping[str, FieldPlan], fmt: ExtractFormat,
) -> Iterator[bytes]:  # fmt: skip
    digest = hashlib.sha256()
    rows = 0
    complete = False
    sink = _Chunks()
    today = ex.today()
    schema = served_schema(snap.schema.empty_table().select(columns).schema, plans)
    writer: Any
    if fmt is ExtractFormat.PARQUET:
        writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema)
    elif fmt is ExtractFormat.ARROW:
        writer = pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), schema)
    else:
        writer = pacsv.CSVWriter(pa.PythonFile(sink, mode="w"), schema)
    try:
        scanner = snap.dataset().scanner(columns=columns, batch_size=ex.config.extract_batch_rows)
        for batch in scanner.to_batches():
            if batch.num_rows == 0:
                continue
            masked = served_batch(batch, plans, ex.disclosure, today).cast(schema)
            writer.write_batch(masked)
            rows += masked.num_rows
            chunk = sink.drain()
            if chunk:
                digest.update(chunk)
                yield chunk
        writer.close()
        tail = sink.drain()
        if tail:
            digest.update(tail)
            yield tail
        complete = True
    finally:
        record = recorder.record
        record.fields = list(columns)
        record.row_count = rows
        record.result_hash = digest.hexdigest()
        record.table_version = snap.version
        if not complete:
            record.status, record.outcome, record.reason = 499, "aborted", "CLIENT_ABORTED"
        recorder.ref = ex.audit.append(record)
