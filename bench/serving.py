"""Serving benchmark: a masked 一人一档 lookup over real HTTP next to a direct DuckDB query.

``uv run python -m bench.serving --rows 1000000`` writes a person theme of that many rows
straight in the theme layout (key-hash buckets, one file per bucket sorted by key, modest row
groups; the layout ``pipelines/themes/build.py`` writes, without running Spark), seeds a
catalogue with a grant, starts the exchange API with uvicorn in a subprocess and times:

1. single-key masked lookups over HTTP (token check, grant check, rate limit, masking and the
   signed audit append included): p50 and p99 one at a time, then p50, p99 and throughput
   with ``--clients`` concurrent clients, twice in the same run: with the audit log's group
   commit (the default) and with one audit transaction per entry (``audit_group_max=1``, how
   it was before), so the ratio is measured under the same load;
2. the same keys through the server's lake reader in-process (no HTTP, no audit);
3. the same keys as a plain DuckDB query on the same Delta table (DuckDB's own
   ``read_parquet`` over the files of the current Delta version);
4. aggregates (count by dimension, noised and budgeted) next to a plain DuckDB group-by.

``--backend postgresql`` puts the catalogue (grants, quotas, audit log) in a fresh schema of
``--pg-url``; ``--workers N`` runs uvicorn with N worker processes.

The machine is shared; numbers are indicative, ratios in the same run are what count.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lake import delta
from lake.bucketing import BUCKET, BUCKETS_KEY, bucket_of
from lake.delta import TableRef

PERSON_TABLE = "theme_person"
PERSON_CODE = "000008002/000002"
PURPOSE = "就业困难人员认定"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# ---- vectorised Spark bucket (XXH64, seed 42) for equal-length keys ------------------------

_P1 = np.uint64(11400714785074694791)
_P2 = np.uint64(14029467366897019727)
_P3 = np.uint64(1609587929392839161)
_P4 = np.uint64(9650029242287828579)
_P5 = np.uint64(2870177450012600261)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _round(acc: np.ndarray, lane: np.ndarray) -> np.ndarray:
    return _rotl(acc + lane * _P2, 31) * _P1


def spark_buckets_bytes(matrix: np.ndarray, buckets: int) -> np.ndarray:
    """Buckets of keys given as an (n, L) uint8 matrix, L < 32: Spark's pmod(xxhash64, b)."""
    n, length = matrix.shape
    if length >= 32:
        raise ValueError("vectorised XXH64 handles keys shorter than 32 bytes")
    with np.errstate(over="ignore"):
        h = np.full(n, np.uint64(42) + _P5 + np.uint64(length), dtype=np.uint64)
        i = 0
        while i + 8 <= length:
            lane = np.ascontiguousarray(matrix[:, i : i + 8]).view("<u8").ravel()
            h ^= _round(np.zeros(n, np.uint64), lane)
            h = _rotl(h, 27) * _P1 + _P4
            i += 8
        if i + 4 <= length:
            word = np.ascontiguousarray(matrix[:, i : i + 4]).view("<u4").ravel()
            h ^= word.astype(np.uint64) * _P1
            h = _rotl(h, 23) * _P2 + _P3
            i += 4
        while i < length:
            h ^= matrix[:, i].astype(np.uint64) * _P5
            h = _rotl(h, 11) * _P1
            i += 1
        h ^= h >> np.uint64(33)
        h *= _P2
        h ^= h >> np.uint64(29)
        h *= _P3
        h ^= h >> np.uint64(32)
    signed = h.view(np.int64)
    return np.mod(signed, buckets).astype(np.int32)


def spark_buckets(keys: pa.Array | pa.ChunkedArray, buckets: int) -> np.ndarray:
    """Buckets of string keys; vectorised when all keys are ASCII of one length."""
    values = keys.to_pylist()
    encoded = [v.encode("utf-8") for v in values]
    lengths = {len(v) for v in encoded}
    if len(lengths) == 1 and next(iter(lengths)) < 32:
        length = next(iter(lengths))
        matrix = np.frombuffer(b"".join(encoded), dtype=np.uint8).reshape(len(encoded), length)
        return spark_buckets_bytes(matrix, buckets)
    return np.array([bucket_of(v, buckets) for v in values], dtype=np.int32)


# ---- writing a Delta table in the theme layout ------------------------------------------


def write_bucketed(
    ref: TableRef,
    parts: Iterable[tuple[int, pa.Table]],
    *,
    key: str,
    buckets: int,
    row_group_rows: int = 1024,
) -> int:
    """Commit ``(bucket, rows)`` parts as one Delta version: one sorted file per bucket."""
    folder = ref.path / f"bench-{int(time.time() * 1000)}"
    files: list[Path] = []
    schema: pa.Schema | None = None
    for bucket, table in parts:
        if table.num_rows == 0:
            continue
        table = table.sort_by(key)
        target = folder / f"{BUCKET}={bucket}" / f"part-{bucket:05d}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target, row_group_size=row_group_rows, compression="snappy")
        files.append(target)
        schema = table.schema
    if schema is None:
        raise ValueError("nothing to write")
    return delta.commit(
        ref,
        schema=schema.append(pa.field(BUCKET, pa.int32())),
        files=files,
        mode="overwrite",
        metadata={BUCKETS_KEY: str(buckets)},
        partition_by=[BUCKET],
    )


def write_theme_table(
    ref: TableRef, table: pa.Table, *, key: str, buckets: int = 16, row_group_rows: int = 1024
) -> int:
    """A whole in-memory table written in the theme layout (tests and small benches)."""
    assigned = spark_buckets(table.column(key), buckets)
    parts = (
        (b, table.filter(pa.array(assigned == b))) for b in range(buckets) if (assigned == b).any()
    )
    return write_bucketed(ref, parts, key=key, buckets=buckets, row_group_rows=row_group_rows)


def provenance_map(n: int, sources: dict[str, str], as_of: datetime) -> pa.MapArray:
    """``_provenance`` as the theme builder writes it: field -> {source, as_of}, per row."""
    names = list(sources)
    width = len(names)
    idx = pa.array(np.tile(np.arange(width, dtype=np.int32), n))
    keys = pa.array(names, pa.string()).take(idx)
    source = pa.array([sources[f] for f in names], pa.string()).take(idx)
    stamp = pa.array(np.full(n * width, int(as_of.timestamp() * 1_000_000), dtype=np.int64)).cast(
        pa.timestamp("us", tz="UTC")
    )
    items = pa.StructArray.from_arrays([source, stamp], names=["source", "as_of"])
    offsets = pa.array(np.arange(0, n * width + 1, width, dtype=np.int32))
    return pa.MapArray.from_arrays(offsets, keys, items)


# ---- synthetic 一人一档 at any scale -----------------------------------------------------

# Region codes that python-stdnum accepts for every birth date generated (1950-2004): it
# checks that the county existed when the person was born.
REGIONS = np.array(
    [110101, 110102, 110103, 110104, 110105, 110106, 110107, 110108,
     110109, 310101, 310103, 310104, 310105, 310106, 310107, 330122],
    dtype=np.int64,
)  # fmt: skip
BIRTH_DAYS = 20_000
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
EPOCH_BIRTH = np.datetime64("1950-01-01")
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘")
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰"]
ADDRESSES = [
    f"浙江省杭州市{d}{s}{n}号"
    for d in ("西湖区", "上城区", "拱墅区", "滨江区", "萧山区")
    for s in ("文三路", "天目山路", "莫干山路", "江南大道")
    for n in (1, 18, 108)
]
PERSON_SOURCES = {
    "姓名": "000004001/000001",
    "性别": "000004001/000001",
    "出生日期": "000004001/000001",
    "户籍地址": "000004001/000001",
    "婚姻状况": "000005001/000001",
    "参保状态": "000003001/000002",
    "是否在世": "000004001/000002",
}


def person_id_matrix(index: np.ndarray) -> np.ndarray:
    """Valid, unique 18-character ID numbers for person numbers ``index``, as uint8 rows."""
    region = REGIONS[index % len(REGIONS)]
    day = (index // len(REGIONS)) % BIRTH_DAYS
    block = index // (len(REGIONS) * BIRTH_DAYS)
    sequence = 2 * block + day % 2  # parity (sex) alternates with the birth day
    births = (EPOCH_BIRTH + day.astype("timedelta64[D]")).astype("datetime64[D]")
    y = births.astype("datetime64[Y]").astype(np.int64) + 1970
    m = births.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (births - births.astype("datetime64[M]")).astype(np.int64) + 1
    number = ((region * 10_000 + y) * 100 + m) * 100 + d  # 14 digits
    digits = np.zeros((len(index), 18), dtype=np.int64)
    for pos in range(13, -1, -1):
        digits[:, pos] = number % 10
        number //= 10
    for pos in range(16, 13, -1):
        digits[:, pos] = sequence % 10
        sequence //= 10
    total = (digits[:, :17] * _WEIGHTS).sum(axis=1) % 11
    matrix = (digits + ord("0")).astype(np.uint8)
    matrix[:, 17] = _CHECK[total]
    return matrix


def person_rows(index: np.ndarray, matrix: np.ndarray, built: datetime) -> pa.Table:
    """Theme rows for the given persons (key bytes precomputed), deterministic per person."""
    n = len(index)
    ids = pa.array(matrix.view("S18").ravel()).cast(pa.string())
    rng = np.random.default_rng(int(index[0]) if n else 0)
    surname = pa.array(SURNAMES).take(pa.array(index % len(SURNAMES)))
    given = pa.array(GIVEN).take(pa.array((index // 7) % len(GIVEN)))
    import pyarrow.compute as pc

    names = pc.binary_join_element_wise(surname, given, "")
    day = (index // len(REGIONS)) % BIRTH_DAYS
    birth = pa.array((EPOCH_BIRTH + day.astype("timedelta64[D]")).astype("datetime64[D]"))
    sex = pa.array(["女", "男"]).take(pa.array((matrix[:, 16] - ord("0")) % 2))
    dead = index % 97 == 0
    marital = pa.array(["未婚", "已婚", "离异", None]).take(pa.array(rng.integers(0, 4, n)))
    insured = pa.array(["参保缴费", "暂停缴费", None]).take(pa.array(rng.integers(0, 3, n)))
    return pa.table(
        {
            "身份证号": ids,
            "姓名": names,
            "性别": sex,
            "出生日期": birth,
            "户籍地址": pa.array(ADDRESSES).take(pa.array(index % len(ADDRESSES))),
            "婚姻状况": marital,
            "参保状态": insured,
            "死亡日期": pa.array(np.where(dead, birth.to_numpy(zero_copy_only=False), None)).cast(
                pa.date32()
            ),
            "是否在世": pa.array(~dead),
            "_provenance": provenance_map(n, PERSON_SOURCES, built),
            "_built_at": pa.array(
                np.full(n, int(built.timestamp() * 1_000_000), dtype=np.int64)
            ).cast(pa.timestamp("us", tz="UTC")),
        }
    )


def write_person_theme(
    ref: TableRef, rows: int, *, buckets: int = 16, row_group_rows: int = 1024
) -> list[str]:
    """A person theme of ``rows`` rows in the theme layout; returns a sample of its keys."""
    index = np.arange(rows, dtype=np.int64)
    matrix = person_id_matrix(index)
    assigned = spark_buckets_bytes(matrix, buckets)
    built = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)

    def parts() -> Iterator[tuple[int, pa.Table]]:
        for b in range(buckets):
            chosen = np.flatnonzero(assigned == b)
            yield b, person_rows(index[chosen], matrix[chosen], built)

    write_bucketed(ref, parts(), key="身份证号", buckets=buckets, row_group_rows=row_group_rows)
    sample = random.Random(7).sample(range(rows), min(rows, 2000))
    return [matrix[i].tobytes().decode() for i in sample]


# ---- the benchmark ------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(home: Path, url: str | None) -> None:
    """Demo catalogue and an approved grant of 一人一档 for 人社 (masked personal fields)."""
    from catalog import demands
    from catalog.context import Actor
    from catalog.schemas import DemandDecisionIn, DemandIn
    from catalog.store import Catalog
    from demo.catalog import DEPT, seed_demo
    from infra.settings import Settings

    catalog = Catalog(Settings(home=home, database_url=url))
    catalog.migrate()
    with catalog.unit() as ctx:
        seed_demo(ctx)
        demand = demands.submit_demand(
            ctx,
            requester_code=DEPT["rs"],
            spec=DemandIn(
                resource_code=PERSON_CODE,
                wanted_items=[
                    "身份证号",
                    "姓名",
                    "性别",
                    "出生日期",
                    "户籍地址",
                    "婚姻状况",
                    "参保状态",
                    "是否在世",
                ],
                purpose=PURPOSE,
                legal_basis="《就业促进法》",
            ),
            actor=Actor.department(DEPT["rs"]),
        )
        demands.decide_demand(
            ctx,
            code=demand.code,
            decision=DemandDecisionIn(approve=True, reason="法定职责"),
            actor=Actor.department(DEPT["sjj"]),
        )
        assert demand.grant is not None
        demand.grant.rate_limit_per_minute = 10**9
    catalog.dispose()


def _api_key(home: Path, url: str | None) -> str:
    from catalog import keys
    from catalog.context import Actor
    from catalog.store import Catalog
    from demo.catalog import DEPT
    from infra.settings import Settings

    catalog = Catalog(Settings(home=home, database_url=url))
    with catalog.unit() as ctx:
        _key, plaintext = keys.create_key(
            ctx, department_code=DEPT["rs"], label="bench", actor=Actor.steward("bench")
        )
    catalog.dispose()
    return plaintext


def _forget_releases(home: Path, url: str | None) -> None:
    """A reused bench home must compute its aggregates again, not answer from the store."""
    from sqlalchemy import delete

    from catalog.models import AggregateRelease
    from catalog.store import Catalog
    from infra.settings import Settings

    catalog = Catalog(Settings(home=home, database_url=url))
    with catalog.unit() as ctx:
        ctx.session.execute(delete(AggregateRelease))
    catalog.dispose()


def _timed(call: Callable[[Any], Any], args: Iterable[Any]) -> list[float]:
    """Milliseconds of ``call(arg)`` for each argument, one after the other."""
    out = []
    for arg in args:
        started = time.perf_counter()
        call(arg)
        out.append((time.perf_counter() - started) * 1000)
    return out


def _concurrent(
    fn: Callable[[int], None], clients: int, seconds: float
) -> tuple[list[float], float]:
    """Latencies (ms) of every call and calls per second, ``clients`` threads for ``seconds``."""
    done: list[list[float]] = [[] for _ in range(clients)]
    stop = time.perf_counter() + seconds

    def worker(n: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            fn(n * 100_000 + i)
            done[n].append((time.perf_counter() - t0) * 1000)
            i += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ms = [v for per in done for v in per]
    return ms, len(ms) / elapsed


def _cpu_seconds(pid: int, *, children: bool = True) -> float:
    """CPU time (user + system) of a process and its children so far, from /proc (Linux).

    Wall time on this shared machine depends on the other tenants; CPU seconds per call do
    not, and say how many cores a target rate needs. The bench's own process is counted
    without children: the server is one of them.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir() if children else ():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


@contextmanager
def _server(env: dict[str, str], workers: int, api_key: str) -> Iterator[tuple[str, int]]:
    """The exchange API under uvicorn in a subprocess: its base URL (once it answers), its pid."""
    import httpx

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "exchange_api.app:create_app",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning",
         "--no-access-log"],
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 120
        with httpx.Client(base_url=base, timeout=30) as probe:
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"uvicorn exited with {server.returncode}")
                try:
                    if probe.post("/token", headers={"X-API-Key": api_key}).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not answer within 120 s")
                time.sleep(0.1)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def _duckdb_baselines(
    ref: TableRef, keys: list[str]
) -> list[tuple[str, list[float], float | None]]:
    """Plain DuckDB on the same Delta table: a key lookup and the group-bys the API answers.

    DuckDB reads the Parquet files of the table's current Delta version itself. Scanning
    delta-rs's pyarrow dataset instead calls back into Python for every batch and deadlocked
    here (10M rows, even with no other thread running), so it is not measured.
    """
    import duckdb

    con = duckdb.connect()
    files = ", ".join("'" + f + "'" for f in delta.live_files(ref))
    con.execute(f"CREATE VIEW person AS SELECT * FROM read_parquet([{files}])")
    columns = '"身份证号", "姓名", "户籍地址", "婚姻状况", "出生日期", "_provenance"'
    out: list[tuple[str, list[float], float | None]] = []
    for label, table in (("read_parquet(files)", "person"),):
        sql = f'SELECT {columns} FROM {table} WHERE "身份证号" = ?'
        con.execute(sql, [keys[0]]).fetchall()
        ms = _timed(lambda k, sql=sql: con.execute(sql, [k]).fetchall(), keys[:300])
        out.append((f"DuckDB {label}, same key", ms, None))
    band = "(date_sub('year', \"出生日期\", DATE '2026-03-03') // 10) * 10"
    plain = [
        f"SELECT {expr}, count(*) FROM person GROUP BY ALL"
        for expr in ('"性别"', band, 'substr("身份证号", 1, 6)', f'{band}, "性别"', '"婚姻状况"')
    ]
    out.append(
        (
            "DuckDB group-by read_parquet(files)",
            _timed(lambda q: con.execute(q).fetchall(), plain),
            None,
        )
    )
    con.close()
    return out


@contextmanager
def _catalogue(backend: str, pg_url: str) -> Iterator[str | None]:
    """The catalogue URL: None for SQLite under the bench home, else a fresh PostgreSQL schema."""
    if backend == "sqlite":
        yield None
        return
    from bench.catalog_search import database

    with database(backend, pg_url=pg_url) as url:
        yield url


def run(
    rows: int, lookups: int, clients: int, seconds: float, keep: Path | None, *,
    backend: str = "sqlite", pg_url: str = "", workers: int = 1,
) -> dict[str, dict[str, float]]:  # fmt: skip
    """Run the benchmark; returns the concurrent figures of both audit modes."""
    with _catalogue(backend, pg_url) as url:
        return _run(rows, lookups, clients, seconds, keep, url=url, workers=workers)


def _run(
    rows: int, lookups: int, clients: int, seconds: float, keep: Path | None, *,
    url: str | None, workers: int,
) -> dict[str, dict[str, float]]:  # fmt: skip
    import httpx
    from rich.console import Console
    from rich.table import Table

    from lake.readers import LakeReader

    console = Console(width=None if sys.stdout.isatty() else 140)
    console.print(f"load average before: {os.getloadavg()[0]:.2f} (1 min)")
    home = keep or Path(tempfile.mkdtemp(prefix="govshare-serving-"))
    ref = TableRef(str((home / "lake").resolve()), "themes", PERSON_TABLE)
    started = time.perf_counter()
    if keep and delta.exists(ref):
        index = random.Random(7).sample(range(rows), min(rows, 2000))
        keys = [person_id_matrix(np.array([i]))[0].tobytes().decode() for i in index]
        console.print(f"reusing {ref.uri}")
        if url is not None:
            _seed(home, url)  # a fresh PostgreSQL schema each run
    else:
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        keys = write_person_theme(ref, rows)
        _seed(home, url)
        console.print(f"wrote {rows:,} rows in {time.perf_counter() - started:.1f} s")
    api_key = _api_key(home, url)
    _forget_releases(home, url)
    random.Random(1).shuffle(keys)
    keys = (keys * (lookups // max(1, len(keys)) + 1))[:lookups]

    baselines = _duckdb_baselines(ref, keys)
    reader = LakeReader(refresh_seconds=3600)
    columns = ["姓名", "户籍地址", "婚姻状况", "出生日期", "_provenance"]
    reader.lookup(ref, key_column="身份证号", keys=[keys[0]], columns=columns)
    direct_ms = _timed(
        lambda k: reader.lookup(ref, key_column="身份证号", keys=[k], columns=columns), keys
    )

    env = {
        **os.environ,
        "GOVSHARE_HOME": str(home),
        "GOVSHARE_EXCHANGE_BUDGET_EPSILON": "1000",
        # Every key looked up counts against the grant's daily cap; the bench asks far more.
        "GOVSHARE_EXCHANGE_LOOKUP_KEYS_PER_GRANT_PER_DAY": str(2**31 - 2),
    }
    if url is not None:
        env["GOVSHARE_DATABASE_URL"] = url
    params = {"fields": "身份证号,姓名,户籍地址,婚姻状况,出生日期"}

    def lookup_with(client: httpx.Client, headers: dict[str, str], key: str) -> None:
        r = client.get(f"/themes/person/profiles/{key}", params=params, headers=headers)
        assert r.status_code == 200, r.text

    def concurrent(base: str, pid: int) -> tuple[list[float], float, float, float]:
        """Latencies, req/s, and the server's and this client's CPU ms per call."""
        with httpx.Client(base_url=base, timeout=120) as client:
            token = client.post("/token", headers={"X-API-Key": api_key}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(PURPOSE)}
        pool = [httpx.Client(base_url=base, timeout=120) for _ in range(clients)]
        try:
            for n, c in enumerate(pool):  # warm every connection (and every worker)
                lookup_with(c, headers, keys[n % len(keys)])
            server_cpu, client_cpu = _cpu_seconds(pid), _cpu_seconds(os.getpid(), children=False)
            ms, rps = _concurrent(
                lambda i: lookup_with(pool[i // 100_000], headers, keys[i % len(keys)]),
                clients,
                seconds,
            )
            server_cpu = (_cpu_seconds(pid) - server_cpu) * 1000 / len(ms)
            client_cpu = (_cpu_seconds(os.getpid(), children=False) - client_cpu) * 1000 / len(ms)
            return ms, rps, server_cpu, client_cpu
        finally:
            for c in pool:
                c.close()

    # Before: one audit transaction per entry (the same server, group commits of one).
    group_env = {**env, "GOVSHARE_EXCHANGE_AUDIT_GROUP_MAX": "1"}
    with _server(group_env, workers, api_key) as (base, pid):
        single_ms, single_rps, single_cpu, single_client_cpu = concurrent(base, pid)
    with _server(env, workers, api_key) as (base, pid):
        group_ms, group_rps, group_cpu, group_client_cpu = concurrent(base, pid)
        client = httpx.Client(base_url=base, timeout=120)
        token = client.post("/token", headers={"X-API-Key": api_key}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(PURPOSE)}
        for key in keys[:50]:
            lookup_with(client, headers, key)  # warm the snapshot and the connection
        http_ms = _timed(lambda k: lookup_with(client, headers, k), keys)
        agg_ms = []
        for group in (["sex"], ["age_band"], ["region"], ["age_band", "sex"], ["marital_status"]):
            body = {"resource_code": PERSON_CODE, "measures": [{"op": "count"}], "group_by": group,
                    "filters": {}}  # fmt: skip
            t0 = time.perf_counter()
            r = client.post("/aggregates", json=body, headers=headers)
            agg_ms.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
            assert not r.json()["repeated"]
        client.close()

    catalogue = "SQLite" if url is None else "PostgreSQL"
    results = [
        ("HTTP masked lookup, 1 client (token+grant+mask+signed audit)", http_ms, None),
        (f"HTTP masked lookup, {clients} clients, audit group commit", group_ms, group_rps),
        (f"HTTP masked lookup, {clients} clients, one audit commit per call (before)",
         single_ms, single_rps),
        ("lake reader in-process (no HTTP, no audit)", direct_ms, None),
        baselines[0],
        ("HTTP aggregate count by dims (DP + k + budget)", agg_ms, None),
        baselines[1],
    ]  # fmt: skip
    table = Table(
        title=f"exchange serving, {rows:,}-row 一人一档, catalogue on {catalogue}, "
        f"{workers} uvicorn worker(s), {os.cpu_count()} cores (shared)"
    )
    for col in ("path", "n", "p50 ms", "p99 ms", "mean ms", "req/s"):
        table.add_column(col, justify="right" if col != "path" else "left")
    for name, ms, per_second in results:
        table.add_row(
            name, str(len(ms)), f"{statistics.median(ms):.2f}", f"{_percentile(ms, 0.99):.2f}",
            f"{statistics.fmean(ms):.2f}", f"{per_second:.0f}" if per_second else "",
        )  # fmt: skip
    console.print(table)

    def p50(ms: list[float]) -> float:
        return statistics.median(ms)

    console.print(
        f"{clients} clients: group commit {group_rps:.0f} req/s, p99 "
        f"{_percentile(group_ms, 0.99):.1f} ms; one commit per call {single_rps:.0f} req/s, "
        f"p99 {_percentile(single_ms, 0.99):.1f} ms; throughput x{group_rps / single_rps:.2f}, "
        f"p99 x{_percentile(group_ms, 0.99) / _percentile(single_ms, 0.99):.2f} "
        "(target: >= 1,000 req/s, p99 <= 50 ms)"
    )
    console.print(
        f"CPU per call: server {group_cpu:.2f} ms with group commit, {single_cpu:.2f} ms with "
        f"one commit per call; bench client {group_client_cpu:.2f} / {single_client_cpu:.2f} "
        f"ms. At {group_cpu:.2f} ms a call, 1,000 req/s needs {group_cpu:.1f} cores for the "
        "server alone (the database's own processes not counted)"
    )
    console.print(
        "ratios (p50): HTTP lookup / DuckDB lookup = "
        f"{p50(http_ms) / p50(baselines[0][1]):.3f}; "
        f"reader / DuckDB lookup = {p50(direct_ms) / p50(baselines[0][1]):.3f}; "
        f"HTTP aggregate / DuckDB group-by = {p50(agg_ms) / p50(baselines[1][1]):.2f}"
    )
    console.print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")
    if keep is None:
        shutil.rmtree(home, ignore_errors=True)
    return {
        mode: {"calls": len(ms), "rps": rps, "p50_ms": p50(ms),
               "p99_ms": _percentile(ms, 0.99), "server_cpu_ms": cpu}
        for mode, ms, rps, cpu in (("group", group_ms, group_rps, group_cpu),
                                   ("single", single_ms, single_rps, single_cpu))
    }  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--keep", type=Path, default=None, help="reuse/keep this home folder")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="where the catalogue (grants, quotas, audit log) lives",
    )
    parser.add_argument("--pg-url", default=PG_URL, help="server for --backend postgresql")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args(argv)
    return run(
        args.rows, args.lookups, args.clients, args.seconds, args.keep,
        backend=args.backend, pg_url=args.pg_url, workers=args.workers,
    )  # fmt: skip


if __name__ == "__main__":
    main()
