"""Catalogue search (full-text index) against a plain ``LIKE '%term%'`` scan, same rows, same run.

    uv run python -m bench.catalog_search --resources 100000 --backend sqlite --queries 200

Loads a synthetic 杭州市 catalogue (``bench.catalog_data``) into a fresh, Alembic-migrated
database, runs a mix of Chinese queries through ``catalog.search.search`` and through a plain
SQL baseline with the same meaning (every term must occur in the name, the summary, a data
item name or the code; same filters; COUNT plus the first 20 rows), and reports p50/p95/p99
per kind of query, the ratio baseline/ours, and any query where the two totals differ, which
would be a search bug. Speed is only reported, never asserted. Next to wall time it
reports the search's CPU time (this process, plus the PostgreSQL backend's from
``/proc/<pid>/schedstat`` when the server runs here), which other jobs on a shared machine
do not inflate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, bindparam, create_engine, event, text
from sqlalchemy.orm import Session

from bench import catalog_data
from bench.catalog_data import GeneratedResource
from catalog.search import SearchFilters, search
from catalog.store import Catalog
from infra.settings import Settings

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RESULTS = Path(__file__).resolve().parent / "results"
LIMIT = 20

KINDS = (
    "2-char",
    "3-4 char",
    "multi-term",
    "rare/none",
    "filter: share type",
    "filter: department",
)
# Words that occur nowhere in the synthetic catalogue: queries that must find nothing.
ABSENT = ("量子通信", "航天发射", "潮汐发电", "海关报关", "古籍修复", "无人机航拍", "冰川监测")


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    filters: SearchFilters = field(default_factory=SearchFilters)

    def describe(self) -> str:
        parts = [self.text]
        if self.filters.share_type:
            parts.append(f"[{self.filters.share_type}]")
        if self.filters.provider_code:
            parts.append(f"[{self.filters.provider_code}]")
        return " ".join(parts)


@dataclass
class Measurement:
    query: Query
    ours_ms: float
    like_ms: float | None  # None: the baseline was not run for this query (``--like-queries``)
    ours_total: int
    like_total: int | None
    # CPU time of the search: this process plus, on PostgreSQL, the server backend serving it.
    # Unlike wall time it does not grow with other jobs' load on a shared machine.
    ours_cpu_ms: float = float("nan")


@dataclass
class KindStats:
    kind: str
    queries: int
    median_total: float
    ours: dict[str, float] = field(default_factory=dict)
    like: dict[str, float] = field(default_factory=dict)
    ours_cpu: dict[str, float] = field(default_factory=dict)
    mismatches: int = 0

    def ratio(self, p: str) -> float | None:
        """Baseline time over search time; above 1 means the index is faster."""
        return self.like[p] / self.ours[p] if self.ours[p] else None


# ---- queries ---------------------------------------------------------------------------


def _is_han(text: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" for c in text)


def _window(rng: random.Random, words: Sequence[str], size: int) -> str:
    """A random Han-only substring of ``size`` characters of one of ``words``."""
    spans = [
        w[i : i + size] for w in words for i in range(len(w) - size + 1) if _is_han(w[i : i + size])
    ]
    return rng.choice(spans) if spans else rng.choice(words)


def _words(resource: GeneratedResource) -> list[str]:
    return [resource.topic, *(item.name for item in resource.spec.items), resource.spec.scenario]


def make_queries(samples: Sequence[GeneratedResource], count: int, *, seed: int) -> list[Query]:
    """``count`` queries cycling through ``KINDS``, drawn from the text of ``samples`` so that
    most match; the rare/none kind mixes absent words and long, specific phrases."""
    rng = random.Random(seed)
    queries: list[Query] = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        source = rng.choice(samples)
        words = _words(source)
        if kind == "2-char":
            queries.append(Query(kind, _window(rng, words, 2)))
        elif kind == "3-4 char":
            queries.append(Query(kind, _window(rng, words, rng.choice((3, 4)))))
        elif kind == "multi-term":
            first = _window(rng, [source.topic], rng.choice((2, 3, 4)))
            second = rng.choice(
                [
                    rng.choice(source.spec.items).name,
                    # 信息, 数据, 名录, …, or 度） after a year: full-width, as stored.
                    source.spec.name[-2:],
                    _window(rng, [source.spec.scenario], 2),
                ]
            )
            queries.append(Query(kind, f"{first} {second}"))
        elif kind == "rare/none":
            variant = (n // len(KINDS)) % 3
            if variant == 0:
                queries.append(Query(kind, rng.choice(ABSENT)))
            elif variant == 1:
                queries.append(Query(kind, _window(rng, [source.spec.summary], 8)))
            else:
                place = source.department.district or source.department.bureau.short
                item = rng.choice(source.spec.items[1:]).name
                queries.append(Query(kind, f"{place} {source.topic} {item}"))
        elif kind == "filter: share type":
            share = source.spec.share_type
            term = _window(rng, words, rng.choice((2, 3, 4)))
            queries.append(Query(kind, term, SearchFilters(share_type=share)))
        else:
            term = _window(rng, words, rng.choice((2, 3, 4)))
            provider = source.spec.provider_code
            queries.append(Query(kind, term, SearchFilters(provider_code=provider)))
    return queries


# ---- the baseline ----------------------------------------------------------------------


def _escape_like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def like_search(session: Session, query: Query) -> tuple[list[Any], int]:
    """The plain answer: each whitespace-separated term, as typed (lower-cased like search
    does), must occur somewhere; the same filters; COUNT plus the first ``LIMIT`` rows."""
    where: list[str] = []
    params: dict[str, Any] = {}
    for n, term in enumerate(query.text.lower().split()):
        params[f"t{n}"] = _escape_like(term)
        p = f":t{n}"
        where.append(
            f"(lower(r.name) LIKE {p} ESCAPE '\\' OR lower(r.summary) LIKE {p} ESCAPE '\\'"
            f" OR r.code LIKE {p} ESCAPE '\\' OR EXISTS (SELECT 1 FROM data_items d"
            f" WHERE d.resource_id = r.id AND lower(d.name) LIKE {p} ESCAPE '\\'))"
        )
    f = query.filters
    if f.provider_code:
        where.append("r.provider_id = (SELECT id FROM departments WHERE code = :provider)")
        params["provider"] = f.provider_code
    if f.classification:
        where.append("r.classification = :classification")
        params["classification"] = f.classification.value
    if f.share_type:
        where.append("r.share_type = :share")
        params["share"] = f.share_type.value
    if f.states:
        where.append("r.state IN :states")
        params["states"] = [s.value for s in f.states]
    condition = " AND ".join(where) or "1 = 1"

    def sql(statement: str) -> Any:
        clause = text(statement)
        return clause.bindparams(bindparam("states", expanding=True)) if f.states else clause

    total = session.execute(
        sql(f"SELECT count(*) FROM resources r WHERE {condition}"), params
    ).scalar_one()
    rows = session.execute(
        sql(
            f"SELECT r.id, r.code, r.name, r.summary FROM resources r WHERE {condition}"
            f" ORDER BY r.code LIMIT {LIMIT}"
        ),
        params,
    ).all()
    return list(rows), total


# ---- running ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    return {p: percentile(values, q) for p, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))}


def _backend_cpu(session: Session) -> Path | None:
    """The ``schedstat`` file of the PostgreSQL backend serving ``session`` when the server
    runs on this machine and we may read it (its CPU time in nanoseconds), else None."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    path = Path(f"/proc/{pid}/schedstat")
    try:
        path.read_text()
    except OSError:
        return None
    return path


def _cpu_ns(backend: Path | None) -> int:
    own = time.process_time_ns()
    if backend is None:
        return own
    try:
        return own + int(backend.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return own


def _ours(session: Session, query: Query, backend: Path | None = None) -> tuple[float, int, float]:
    """Wall ms, total and CPU ms (client and, when readable, server backend) of one search."""
    cpu = _cpu_ns(backend)
    start = time.perf_counter()
    _found, total = search(session, query.text, filters=query.filters, limit=LIMIT)
    elapsed = time.perf_counter() - start
    cpu_ms = (_cpu_ns(backend) - cpu) / 1e6
    session.expunge_all()  # no identity-map shortcuts for the next query
    return elapsed * 1000, total, cpu_ms


def _like(session: Session, query: Query) -> tuple[float, int]:
    start = time.perf_counter()
    _rows, total = like_search(session, query)
    return (time.perf_counter() - start) * 1000, total


def measure(
    session: Session, queries: Sequence[Query], *, warmup: int, like_queries: int | None = None
) -> list[Measurement]:
    """Warm both paths up, then time each query once per path, alternating which goes first.

    ``like_queries`` limits the baseline to the first so many queries: at a million resources
    one ``LIKE`` scan takes seconds, and counts are still checked exactly on those."""
    backend = _backend_cpu(session)
    for query in queries[:warmup]:
        _ours(session, query)
        _like(session, query)
    results = []
    for n, query in enumerate(queries):
        if like_queries is not None and n >= like_queries:
            ours_ms, ours_total, cpu_ms = _ours(session, query, backend)
            results.append(Measurement(query, ours_ms, None, ours_total, None, cpu_ms))
            continue
        if n % 2:
            like_ms, like_total = _like(session, query)
            ours_ms, ours_total, cpu_ms = _ours(session, query, backend)
        else:
            ours_ms, ours_total, cpu_ms = _ours(session, query, backend)
            like_ms, like_total = _like(session, query)
        results.append(Measurement(query, ours_ms, like_ms, ours_total, like_total, cpu_ms))
    return results


def summarise(measurements: Sequence[Measurement]) -> list[KindStats]:
    groups = [(kind, [m for m in measurements if m.query.kind == kind]) for kind in KINDS]
    groups.append(("all", list(measurements)))
    return [
        KindStats(
            kind=kind,
            queries=len(ms),
            median_total=statistics.median(m.ours_total for m in ms),
            ours=_percentiles([m.ours_ms for m in ms]),
            like=_percentiles([m.like_ms for m in ms if m.like_ms is not None]),
            ours_cpu=_percentiles([m.ours_cpu_ms for m in ms]),
            mismatches=sum(m.like_total is not None and m.ours_total != m.like_total for m in ms),
        )
        for kind, ms in groups
        if ms
    ]


@contextmanager
def _captured_sql(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def explain(session: Session, engine: Engine, query: Query) -> list[tuple[str, str]]:
    """Plans of the COUNT statement of search and of the baseline, as the database runs them."""
    with _captured_sql(engine) as ours:
        search(session, query.text, filters=query.filters, limit=LIMIT)
    session.expunge_all()
    with _captured_sql(engine) as base:
        like_search(session, query)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    plans = []
    for label, captured in (("search", ours), ("LIKE", base)):
        statement, params = next((s, p) for s, p in captured if "count(*)" in s.lower())
        rows = session.connection().exec_driver_sql(prefix + statement, params).all()
        plan = "\n".join(" | ".join(str(c) for c in row) for row in rows)
        plans.append((label, f"{statement}\n-- plan --\n{plan}"))
    return plans


# ---- databases -------------------------------------------------------------------------


@contextmanager
def database(backend: str, *, pg_url: str) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file in a temp dir or a new PostgreSQL schema,
    both gone afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="govshare-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'catalog.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{pg_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def kept(url: str) -> Iterator[str]:
    """A catalogue the benchmark neither creates nor drops (``--database``)."""
    print(f"catalogue kept at {url}")
    yield url


def _resource_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM resources")).scalar_one())


def analyse(engine: Engine) -> None:
    """Planner statistics, as PostgreSQL's autovacuum would gather them after a big load."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("VACUUM ANALYZE departments, resources, data_items, search_docs")


def server_version(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return "SQLite " + str(conn.exec_driver_sql("select sqlite_version()").scalar())
        return str(conn.exec_driver_sql("show server_version").scalar()).split()[0]


# ---- output ----------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _times(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.1f}×"


def table(stats: Sequence[KindStats], *, title: str) -> Table:
    out = Table(title=title, caption="LIKE/search above 1 means the search index is faster")
    out.add_column("query kind", no_wrap=True)
    out.add_column("n", justify="right")
    out.add_column("hits\np50", justify="right")
    for label in (
        "search\np50 ms",
        "search\np95 ms",
        "search CPU\np50 ms",
        "search CPU\np95 ms",
        "LIKE\np50 ms",
        "LIKE\np95 ms",
    ):
        out.add_column(label, justify="right")
    out.add_column("LIKE/search\np50", justify="right")
    out.add_column("LIKE/search\np95", justify="right")
    out.add_column("count\nmismatch", justify="right")
    for s in stats:
        out.add_row(
            s.kind,
            str(s.queries),
            f"{s.median_total:g}",
            _ms(s.ours["p50"]),
            _ms(s.ours["p95"]),
            _ms(s.ours_cpu["p50"]),
            _ms(s.ours_cpu["p95"]),
            _ms(s.like["p50"]),
            _ms(s.like["p95"]),
            _times(s.ratio("p50")),
            _times(s.ratio("p95")),
            str(s.mismatches) if s.mismatches else "0",
            style="bold" if s.kind == "all" else None,
        )
    return out


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.catalog_search", description=__doc__)
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=20, help="queries run untimed first")
    parser.add_argument("--batch", type=int, default=2000, help="resources per insert batch")
    parser.add_argument("--pg-url", default=PG_URL, help="server for --backend postgresql")
    parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE after loading")
    parser.add_argument("--explain", action="store_true", help="print one plan per query kind")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument(
        "--database",
        help="use this catalogue URL and keep it: loaded when empty, reused when it already "
        "holds --resources resources (load once at a million, measure later on a quiet machine)",
    )
    parser.add_argument(
        "--like-queries", type=int, help="run the LIKE baseline on the first N queries only"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Run the benchmark; 0 when search and the baseline agree on every total, else 1."""
    args = _arguments(argv)
    # Piped output (CI logs, tee) gets room for the whole table instead of rich's 80 columns.
    console = console or Console(width=None if sys.stdout.isatty() else 120)
    depts = catalog_data.departments()
    sample_at = set(
        random.Random(args.seed + 1).sample(range(args.resources), k=min(args.resources, 2000))
    )
    samples: list[GeneratedResource] = []

    def keep_samples() -> Iterator[GeneratedResource]:
        for n, resource in enumerate(catalog_data.resources(args.resources, depts, seed=args.seed)):
            if n in sample_at:
                samples.append(resource)
            yield resource

    chosen = kept(args.database) if args.database else database(args.backend, pg_url=args.pg_url)
    with chosen as url, tempfile.TemporaryDirectory() as home:
        catalog = Catalog(Settings(home=Path(home), database_url=url))
        try:
            catalog.migrate()
            version = server_version(catalog.engine)
            loaded = _resource_count(catalog.engine)
            if loaded not in (0, args.resources):
                raise SystemExit(
                    f"{args.database} holds {loaded:,} resources, not {args.resources:,}"
                )
            console.print(
                f"[bold]catalogue search benchmark[/] {args.backend} ({version}), "
                f"{args.resources:,} resources, {args.queries} queries, seed {args.seed}"
            )
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console, transient=False) as progress:
                task = progress.add_task(
                    "generate (loaded before)" if loaded else "generate + load",
                    total=args.resources,
                )
                started = time.perf_counter()
                if loaded:  # the same seed generates the same resources: only the samples
                    stats = catalog_data.LoadStats(departments=len(depts))
                    for done, _resource in enumerate(keep_samples(), 1):
                        if done % 10_000 == 0:
                            progress.update(task, completed=done)
                    stats.resources = loaded
                else:
                    stats = catalog_data.load(
                        catalog.engine,
                        depts,
                        keep_samples(),
                        batch_size=args.batch,
                        on_batch=lambda done: progress.update(task, completed=done),
                    )
                stats.seconds = time.perf_counter() - started
            analysed = 0.0
            if not args.no_analyze and not loaded:
                started = time.perf_counter()
                analyse(catalog.engine)
                analysed = time.perf_counter() - started
            if loaded:
                console.print(
                    f"reused the {loaded:,} resources loaded before; samples regenerated in "
                    f"{stats.seconds:.1f} s"
                )
            else:
                console.print(
                    f"loaded {stats.resources:,} resources, {stats.items:,} data items, "
                    f"{stats.documents:,} search documents in {stats.seconds:.1f} s "
                    f"({stats.resources / stats.seconds:,.0f} resources/s, generation included)"
                    + (f"; ANALYZE {analysed:.1f} s" if analysed else "; no ANALYZE")
                )
            queries = make_queries(samples, args.queries, seed=args.seed + 2)
            with catalog.unit() as ctx:
                if args.explain:
                    for kind in KINDS:
                        query = next((q for q in queries if q.kind == kind), None)
                        if query is None:
                            continue
                        for label, plan in explain(ctx.session, catalog.engine, query):
                            console.rule(f"{kind}: {query.describe()} — {label}")
                            console.print(plan, markup=False, highlight=False)
                measurements = measure(
                    ctx.session, queries, warmup=args.warmup, like_queries=args.like_queries
                )
        finally:
            catalog.dispose()

    summary = summarise(measurements)
    title = (
        f"search vs LIKE — {args.backend}, {args.resources:,} resources, "
        f"{len(queries)} queries, limit {LIMIT}"
    )
    console.print(table(summary, title=title))
    # Percentiles move with other work on the machine: say how busy it was.
    console.print("load average (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    mismatches = [
        m for m in measurements if m.like_total is not None and m.ours_total != m.like_total
    ]
    for m in mismatches:
        console.print(
            f"[red]count mismatch[/] {m.query.kind}: {m.query.describe()!r} "
            f"search={m.ours_total} LIKE={m.like_total}"
        )
    result = {
        "benchmark": "catalog_search",
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": args.backend,
        "server": version,
        "python": platform.python_version(),
        "resources": args.resources,
        "queries": len(queries),
        "seed": args.seed,
        "warmup": args.warmup,
        "analyzed": not args.no_analyze,
        "limit": LIMIT,
        "load": asdict(stats),
        "kinds": [
            asdict(s) | {"ratio_p50": s.ratio("p50"), "ratio_p95": s.ratio("p95")} for s in summary
        ],
        "mismatches": [
            {
                "kind": m.query.kind,
                "query": m.query.describe(),
                "search": m.ours_total,
                "like": m.like_total,
            }
            for m in mismatches
        ],
        "measurements": [
            {
                "kind": m.query.kind,
                "query": m.query.describe(),
                "search_ms": round(m.ours_ms, 3),
                "search_cpu_ms": round(m.ours_cpu_ms, 3),
                "like_ms": None if m.like_ms is None else round(m.like_ms, 3),
                "search_total": m.ours_total,
                "like_total": m.like_total,
            }
            for m in measurements
        ],
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.results_dir / f"catalog_search-{args.backend}-{args.resources}-{stamp}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"results: {path}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
