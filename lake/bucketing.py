"""Which key-hash bucket of a theme table holds a key, computed exactly as Spark does.

Theme tables are partitioned by ``pmod(xxhash64(key), buckets)`` (Spark's XXH64, seed 42);
a lookup computes the same bucket here and opens only that bucket's file. Spark's XXH64 on a
string is the reference XXH64 of its UTF-8 bytes, checked against Spark in the tests.
"""

from __future__ import annotations

from functools import lru_cache

_M = (1 << 64) - 1
_P1 = 11400714785074694791
_P2 = 14029467366897019727
_P3 = 1609587929392839161
_P4 = 9650029242287828579
_P5 = 2870177450012600261
SPARK_SEED = 42
# The partition column of a theme table and the commit-info key recording its bucket count.
BUCKET = "_bucket"
BUCKETS_KEY = "govshare.buckets"


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M


def _round(acc: int, lane: int) -> int:
    return (_rotl((acc + lane * _P2) & _M, 31) * _P1) & _M


def _merge(acc: int, value: int) -> int:
    return ((acc ^ _round(0, value)) * _P1 + _P4) & _M


def xxh64(data: bytes, seed: int = 0) -> int:
    """The reference XXH64 as an unsigned 64-bit integer."""
    n, i = len(data), 0
    if n >= 32:
        v1, v2 = (seed + _P1 + _P2) & _M, (seed + _P2) & _M
        v3, v4 = seed & _M, (seed - _P1) & _M
        while i + 32 <= n:
            v1 = _round(v1, int.from_bytes(data[i : i + 8], "little"))
            v2 = _round(v2, int.from_bytes(data[i + 8 : i + 16], "little"))
            v3 = _round(v3, int.from_bytes(data[i + 16 : i + 24], "little"))
            v4 = _round(v4, int.from_bytes(data[i + 24 : i + 32], "little"))
            i += 32
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _M
        for v in (v1, v2, v3, v4):
            h = _merge(h, v)
    else:
        h = (seed + _P5) & _M
    h = (h + n) & _M
    while i + 8 <= n:
        h ^= _round(0, int.from_bytes(data[i : i + 8], "little"))
        h = (_rotl(h, 27) * _P1 + _P4) & _M
        i += 8
    if i + 4 <= n:
        h ^= (int.from_bytes(data[i : i + 4], "little") * _P1) & _M
        h = (_rotl(h, 23) * _P2 + _P3) & _M
        i += 4
    while i < n:
        h ^= (data[i] * _P5) & _M
        h = (_rotl(h, 11) * _P1) & _M
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M
    h ^= h >> 29
    h = (h * _P3) & _M
    return h ^ (h >> 32)


@lru_cache(maxsize=65_536)
def bucket_of(key: str, buckets: int) -> int:
    """Spark's ``pmod(xxhash64(key), buckets)`` (the hash is a signed long there)."""
    h = xxh64(key.encode("utf-8"), SPARK_SEED)
    if h >= 1 << 63:
        h -= 1 << 64
    return h % buckets
