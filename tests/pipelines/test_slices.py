"""UTF-8 CSV files parsed by the tasks in byte ranges give what Spark's reader gives."""

from __future__ import annotations

import itertools
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

import pipelines.ingest as ingest
from catalog.store import Catalog
from jobs.batch import _plan, ingest_one
from lake import delta
from pipelines.ingest import tables
from pipelines.slices import byte_ranges, count_rows
from tests.pipelines.conftest import (
    REG_HEADERS,
    REG_TABLE,
    REGISTRATION,
    company_code,
    registration_row,
    set_threshold,
    write_csv,
)


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (b"", 0),
        (b"a,b\n", 1),
        (b"a,b", 1),
        (b"a\n\nb\r\n\r\nc", 3),
        (b"a\r\n", 1),
        (b"\r\n\n", 0),
        (b"a\rb\n", None),  # a bare carriage return: Spark's reader decides
        (b'a,"",d\n', 1),
        (b'a,"x,y",d\n"""q""",b\n', 2),
        ('a,"杭州"科技,d\n'.encode(), None),  # a quote inside a field
        (b'"b"  ,c\n', None),  # text after the closing quote
        (b'"a\\"b"\n', None),  # a backslash-escaped quote
    ],
)
def test_count_rows_matches_what_the_parser_keeps(data: bytes, rows: int | None) -> None:
    assert count_rows(data) == rows


def test_byte_ranges_start_on_line_starts_and_cover_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    lines = [b"h1,h2\n"] + [f"{n},{'x' * (n % 17)}\n".encode() for n in range(5000)]
    path.write_bytes(b"".join(lines))
    data = path.read_bytes()
    ranges = byte_ranges(path, 7)
    assert ranges[0][0] == len(lines[0]) and ranges[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert all(data[start - 1 : start] == b"\n" for start, _ in ranges)
    assert sum(count_rows(data[s:e]) or 0 for s, e in ranges) == 5000


@pytest.fixture(autouse=True)
def _spark_only(lake_settings) -> None:  # type: ignore[no-untyped-def]
    """These tests pin Spark's two readers; small files would otherwise skip Spark."""
    lake_settings.ingest_local_max_bytes = 0


def _layers(settings) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def]
    refs = tables(settings, REG_TABLE)
    out = {}
    for layer in ("raw", "quarantine", "validated"):
        rows = pa.table(delta.read(refs[layer])).to_pylist()
        for row in rows:
            for meta in ("_received_at", "_ingested_at", "_batch_id", "_source_file", "_data_date"):
                row.pop(meta, None)
        out[layer] = sorted(rows, key=lambda r: r["_row_number"])
    return out


@pytest.mark.slow
def test_byte_range_path_and_spark_reader_give_the_same_layers(
    lake_settings, landing, monkeypatch
) -> None:
    set_threshold(lake_settings, 0.0, REGISTRATION)
    rows = [registration_row(n) for n in range(1, 3001)]
    rows[10] = registration_row(11, 统一社会信用代码=company_code(11)[:-1] + "0")
    rows[20] = registration_row(21, 注册资本="１２３.５", 成立日期="2024年3月5日")
    rows[30] = registration_row(31, 企业名称="  杭州\t测试  ", 法定代表人="")
    rows[40] = registration_row(2)  # a duplicate key, 与第 2 行重复
    rows[50] = registration_row(51, 住所='含"引号",和逗号')
    path = write_csv(landing / REG_TABLE / "reg.csv", rows)
    with path.open("a", encoding="utf-8") as handle:  # a quoted empty field reads as null
        handle.write(",".join(f'"{v}"' for v in registration_row(3001, 法定代表人="")) + "\n")
    fast = ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    by_tasks = _layers(lake_settings)
    shutil.rmtree(lake_settings.lake_path)
    monkeypatch.setattr(ingest, "_csv_pass", lambda *args: None)
    catalog = Catalog(lake_settings)
    plan = _plan(catalog, REGISTRATION)
    catalog.dispose()
    spark = ingest.ingest_file(
        lake_settings, plan, path, received_at=datetime.now(UTC), as_of=date(2026, 3, 3)
    )
    ingest.publish_staged(lake_settings, plan, spark.batch_id)  # the job's publish step
    # The same rows in every layer, with the same row numbers and reasons.
    assert (
        (spark.rows_read, spark.rows_accepted)
        == (fast.rows_read, fast.rows_accepted)
        == (3001, 2999)
    )
    by_spark = _layers(lake_settings)
    assert by_tasks["raw"] == by_spark["raw"]
    assert by_tasks["validated"] == by_spark["validated"]
    assert [r["_errors"] for r in by_tasks["quarantine"]] == [
        r["_errors"] for r in by_spark["quarantine"]
    ]
    assert by_tasks["raw"][30]["法定代表人"] is None  # an empty field reads as null either way
    assert by_tasks["raw"][3000]["法定代表人"] is None


@pytest.mark.slow
def test_a_row_with_the_wrong_number_of_fields_goes_through_sparks_reader(
    lake_settings, landing
) -> None:
    set_threshold(lake_settings, 0.0, REGISTRATION)
    path = write_csv(landing / REG_TABLE / "short.csv", [registration_row(n) for n in (1, 2, 3)])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(company_code(4) + "\n")  # a short row: the name (required) is missing
    summary = ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    # Read as Spark's reader reads it (missing fields are null), never dropped.
    assert (summary.rows_read, summary.rows_accepted, summary.rows_quarantined) == (4, 3, 1)
    quarantine = pa.table(delta.read(tables(lake_settings, REG_TABLE)["quarantine"])).to_pylist()
    assert [r["_row_number"] for r in quarantine] == [4]
    assert quarantine[0]["统一社会信用代码"] == company_code(4)
    assert quarantine[0]["企业名称"] is None and len(REG_HEADERS) == 9
