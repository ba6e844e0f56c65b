"""The console's catalogue search page and resource page against the same API calls, same run.

    uv run python -m bench.console --resources 100000 --queries 200

Loads a synthetic catalogue (``bench.catalog_data``, as ``bench.catalog_search`` does) into a
fresh SQLite home, starts ``govshare serve`` on it, signs in to the console with a department
key and times, over real HTTP on the loopback, for the same queries and resources:

- ``GET /catalog?q=…`` (the HTML page) against ``GET /api/v1/resources?q=…&limit=20``;
- ``GET /catalog/r/{code}`` against ``GET /api/v1/resources/{code}``.

Each pair runs back to back, alternating which goes first. Client-observed time on the
loopback is the server's time plus a constant few hundred microseconds for both. Reports
p50/p95 and the ratio console/API (issue 18's target: p95 ≤ 1.2×). Speed is only reported.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bench import catalog_data
from bench.catalog_search import make_queries, percentile
from catalog import keys, repository
from catalog.context import Actor
from catalog.domain import ResourceState
from catalog.store import Catalog
from infra.settings import Settings

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _timed(call: Callable[[], httpx.Response]) -> float:
    started = time.perf_counter()
    answer = call()
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"{answer.request.url} answered {answer.status_code}")
    return elapsed


def _pairs(
    pairs: Sequence[tuple[Callable[[], httpx.Response], Callable[[], httpx.Response]]],
    *,
    warmup: int,
) -> tuple[list[float], list[float]]:
    for console_call, api_call in pairs[:warmup]:
        console_call()
        api_call()
    page, api = [], []
    for n, (console_call, api_call) in enumerate(pairs):
        if n % 2:
            api.append(_timed(api_call))
            page.append(_timed(console_call))
        else:
            page.append(_timed(console_call))
            api.append(_timed(api_call))
    return page, api


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--home", type=Path, help="keep the loaded catalogue here and reuse it on the next run"
    )
    args = parser.parse_args(argv)
    out = Console(width=None if sys.stdout.isatty() else 120)

    depts = catalog_data.departments()
    samples: list[catalog_data.GeneratedResource] = []

    def keep() -> Iterator[catalog_data.GeneratedResource]:
        for n, resource in enumerate(catalog_data.resources(args.resources, depts, seed=args.seed)):
            if n % max(1, args.resources // 2000) == 0:
                samples.append(resource)
            yield resource

    with tempfile.TemporaryDirectory(prefix="govshare-bench-console-") as folder:
        home = args.home or Path(folder) / "home"
        catalog = Catalog(Settings(home=home))
        try:
            catalog.migrate()
            with catalog.unit() as ctx:
                loaded = repository.count_resources(ctx.session)
            started = time.perf_counter()
            if loaded:  # a kept --home: the same seed generates the same resources
                for _resource in keep():
                    pass
                out.print(f"reusing {loaded:,} resources in {home}")
            else:
                stats = catalog_data.load(catalog.engine, depts, keep())
                out.print(
                    f"loaded {stats.resources:,} resources, {stats.items:,} data items in "
                    f"{time.perf_counter() - started:.1f} s"
                )
            with catalog.unit() as ctx:
                _key, api_key = keys.create_key(
                    ctx, department_code=depts[1].spec.code, actor=Actor.steward("bench")
                )
        finally:
            catalog.dispose()

        port = _free_port()
        env = {**os.environ, "GOVSHARE_HOME": str(home)}
        env.pop("GOVSHARE_DATABASE_URL", None)
        govshare = Path(sys.executable).parent / "govshare"
        server = subprocess.Popen(
            [str(govshare), "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as web:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        login = web.get("/login")
                        break
                    except httpx.TransportError:
                        if time.monotonic() > deadline or server.poll() is not None:
                            raise RuntimeError("govshare serve did not start") from None
                        time.sleep(0.2)
                token = TOKEN.search(login.text)
                assert token is not None
                signed_in = web.post(
                    "/login", data={"api_key": api_key, "csrf_token": token.group(1)}
                )
                assert signed_in.url.path == "/catalog", signed_in.url
                api = httpx.Client(
                    base_url=f"{base}/api/v1", headers={"X-API-Key": api_key}, timeout=60
                )
                queries = make_queries(samples, args.queries, seed=args.seed + 2)

                def search_pair(q: Any) -> tuple[Callable[..., httpx.Response], ...]:
                    params = {"q": q.text}
                    if q.filters.share_type:
                        params["share_type"] = str(q.filters.share_type)
                    if q.filters.provider_code:
                        params["department"] = q.filters.provider_code
                    return (
                        lambda: web.get("/catalog", params=params),
                        lambda: api.get("/resources", params={**params, "limit": 20}),
                    )

                # Published ones: everyone may open them (others' drafts are a 404 on both).
                published = [r for r in samples if r.state is ResourceState.PUBLISHED]
                codes = [r.spec.code for r in published[: args.queries]]

                def resource_pair(code: str) -> tuple[Callable[..., httpx.Response], ...]:
                    return (
                        lambda: web.get(f"/catalog/r/{code}"),
                        lambda: api.get(f"/resources/{code}"),
                    )

                search_page, search_api = _pairs(
                    [search_pair(q) for q in queries], warmup=args.warmup
                )
                resource_page, resource_api = _pairs(
                    [resource_pair(c) for c in codes], warmup=args.warmup
                )
                api.close()
        finally:
            server.terminate()
            server.wait(timeout=30)

    table = Table(title=f"console vs API, {args.resources:,} resources (ms, loopback HTTP)")
    for column in ("call", "console p50", "API p50", "console p95", "API p95", "p95 ratio"):
        table.add_column(column)
    for label, page, api_ms in (
        (f"search ({len(search_page)} queries)", search_page, search_api),
        (f"resource page ({len(resource_page)} resources)", resource_page, resource_api),
    ):
        p50, a50 = percentile(page, 0.5), percentile(api_ms, 0.5)
        p95, a95 = percentile(page, 0.95), percentile(api_ms, 0.95)
        table.add_row(
            label, f"{p50:.1f}", f"{a50:.1f}", f"{p95:.1f}", f"{a95:.1f}", f"{p95 / a95:.2f}×"
        )
    out.print(table)
    out.print("target (issue 18): console p95 ≤ 1.2× the API's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
