"""Demand codes under concurrency: parallel submissions each get their own code, never a 500.

Real threads, each with its own catalogue session (as parallel API requests have), on SQLite
and PostgreSQL.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from catalog import demands, repository
from catalog.context import Actor
from catalog.domain import DemandState
from catalog.schemas import DemandIn
from tests import factories

SUBMISSIONS = 50

pytestmark = pytest.mark.concurrency


def _submit(catalog, requester_code: str, start: threading.Barrier) -> str:  # type: ignore[no-untyped-def]
    spec = DemandIn(wanted_items=["无人负责的信息项"], purpose="办理一件事", legal_basis="测试依据")
    start.wait()
    with catalog.unit() as ctx:
        demand = demands.submit_demand(
            ctx, requester_code=requester_code, spec=spec, actor=Actor.department(requester_code)
        )
        return demand.code


def test_fifty_concurrent_demands_get_fifty_distinct_codes(catalog) -> None:  # type: ignore[no-untyped-def]
    with catalog.unit() as ctx:
        requester = factories.department(ctx, 2).code
    start = threading.Barrier(SUBMISSIONS)
    with ThreadPoolExecutor(max_workers=SUBMISSIONS) as pool:
        futures = [pool.submit(_submit, catalog, requester, start) for _ in range(SUBMISSIONS)]
        codes = [f.result(timeout=120) for f in futures]  # any error is raised here
    assert len(set(codes)) == SUBMISSIONS
    with catalog.unit() as ctx:
        stored = repository.demands(ctx.session)
        assert sorted(d.code for d in stored) == sorted(codes)
        assert {d.state for d in stored} == {DemandState.UNASSIGNED}
    # Codes of one day are numbered 1..n without holes, as they were before.
    assert sorted(int(c[-6:]) for c in codes) == list(range(1, SUBMISSIONS + 1))


def test_codes_continue_after_existing_demands_of_the_day(catalog) -> None:  # type: ignore[no-untyped-def]
    with catalog.unit() as ctx:
        requester = factories.department(ctx, 2).code
    start = threading.Barrier(1)
    first = _submit(catalog, requester, start)
    second = _submit(catalog, requester, start)
    assert first[:10] == second[:10] and int(second[-6:]) == int(first[-6:]) + 1
