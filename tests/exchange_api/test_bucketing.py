"""A key's bucket computed in Python is the bucket Spark wrote it to."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from bench.serving import person_id_matrix, spark_buckets, spark_buckets_bytes
from lake.bucketing import bucket_of, xxh64

KEYS = ["91330106000000001X", "330106198001010014", "", "a", "abcdefgh" * 5, "中文主键一二三"]


def test_reference_xxh64_vectors() -> None:
    # Published XXH64 test vectors (seed 0).
    assert xxh64(b"") == 0xEF46DB3751D8E999
    assert xxh64(b"a") == 0xD24EC4F1A98C6E5B
    assert xxh64(b"abc") == 0x44BC2CF5AD770999


def test_vectorised_buckets_match_the_scalar_ones() -> None:
    matrix = person_id_matrix(np.arange(0, 50_000, 97))
    keys = [row.tobytes().decode() for row in matrix]
    assert list(spark_buckets_bytes(matrix, 16)) == [bucket_of(k, 16) for k in keys]
    assert list(spark_buckets(pa.array(KEYS), 7)) == [bucket_of(k, 7) for k in KEYS]


@pytest.mark.slow
def test_buckets_match_spark_xxhash64(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(tmp_path))
        .getOrCreate()
    )
    frame = spark.createDataFrame([(k,) for k in KEYS], "k string")
    rows = frame.select("k", F.pmod(F.xxhash64("k"), F.lit(16)).alias("b")).collect()
    assert {r.k: r.b for r in rows} == {k: bucket_of(k, 16) for k in KEYS}
