"""Prometheus metrics and health of the exchange API, summed over its uvicorn workers.

Each uvicorn worker is its own process with its own counters. Under ``govshare serve``
``PROMETHEUS_MULTIPROC_DIR`` points at a folder under GOVSHARE_HOME (emptied at start) before
any worker imports ``prometheus_client``, so every worker writes its samples to memory-mapped
files there and any worker answering ``/metrics`` reads them all (prometheus_client's
multiprocess mode). Without it (one process, tests) the process's own registry is served.

What is counted in process: request latency by route template, method and status; audit
entries committed by outcome; ε charged (as each fresh noised answer's audit entry records
it). What other processes do (ingest batches and rows, quality-gate decisions in Airflow or
the CLI) and the authoritative ε budgets are read from the catalogue at scrape time
(:mod:`catalog.gauges`), so they agree whichever process did the work.

Labels never carry a person, a key or a looked-up value: routes are templates
(``/api/v1/themes/{theme}/profiles/{key}``), departments appear only by their public
organisation code on budget rows.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog import gauges
from catalog.store import Catalog
from infra.errors import DatabaseUnavailable, GovshareError
from privacy.dp import units_epsilon

log = logging.getLogger("govshare.exchange_api.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST
UNMATCHED = "<unmatched>"  # a path no route serves: one label, not one per probe

REQUEST_SECONDS = Histogram(
    "govshare_http_request_duration_seconds",
    "Exchange API request latency by route template, method and status",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
AUDIT_APPENDS = Counter(
    "govshare_audit_appends",
    "Audit entries committed to the chain, by outcome (allowed / denied / error)",
    ["outcome"],
)
EPSILON_CHARGED = Counter(
    "govshare_dp_epsilon_charged",
    "Differential-privacy epsilon charged by fresh noised answers (as audited)",
)


def audit_committed(outcomes: Iterable[tuple[str, str]]) -> None:
    """Count committed audit entries: (outcome, ε as the entry records it, "" for none)."""
    for outcome, epsilon in outcomes:
        AUDIT_APPENDS.labels(outcome).inc()
        if epsilon:
            EPSILON_CHARGED.inc(float(epsilon))


class RequestMetrics:
    """ASGI middleware timing every HTTP request until its last byte is sent.

    The route template is read after routing put it in the scope; the status is the one
    sent, 500 when the app raised before answering.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            REQUEST_SECONDS.labels(route, scope.get("method", ""), str(status)).observe(
                time.perf_counter() - started
            )


class _CatalogueCollector:
    """Figures read from the catalogue at each scrape; ``catalogue_up`` 0 when it cannot."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "govshare_catalogue_up", "1 when the catalogue database answered this scrape"
        )
        try:
            with self.catalog.unit() as ctx:
                found = gauges.figures(ctx.session)
        except (SQLAlchemyError, GovshareError, OSError) as error:
            log.warning("metrics: catalogue figures unavailable (%s)", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        batches = GaugeMetricFamily(
            "govshare_ingest_batches",
            "Ingest batches in the catalogue by status",
            labels=["status"],
        )
        for status, count in sorted(found.batches.items()):
            batches.add_metric([status], count)
        yield batches
        rows = CounterMetricFamily(
            "govshare_ingest_rows",
            "Rows of ingest batches: read, accepted into the lake, quarantined",
            labels=["fate"],
        )
        for fate, count in found.rows.items():
            rows.add_metric([fate], count)
        yield rows
        decisions = GaugeMetricFamily(
            "govshare_quality_gate_decisions",
            "Quality-gate results by their current decision",
            labels=["decision"],
        )
        for decision, count in sorted(found.gate_decisions.items()):
            decisions.add_metric([decision], count)
        yield decisions
        labels = ["department", "privacy_unit", "period"]
        spent = GaugeMetricFamily(
            "govshare_dp_budget_spent_epsilon", "Epsilon spent per budget (ledger)", labels=labels
        )
        total = GaugeMetricFamily(
            "govshare_dp_budget_total_epsilon", "Epsilon budget per account", labels=labels
        )
        for budget in found.budgets:
            key = [budget.department_code, budget.privacy_unit, budget.period]
            spent.add_metric(key, units_epsilon(budget.spent_units))
            total.add_metric(key, units_epsilon(budget.total_units))
        yield spent
        yield total


class _ThisProcess:
    """The process's own registry, when no multiprocess folder is configured."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition(catalog: Catalog, *, multiprocess_dir: Path | None) -> bytes:
    """The text exposition of every worker's metrics plus the catalogue's figures."""
    registry = CollectorRegistry()
    if multiprocess_dir is not None:
        MultiProcessCollector(registry, path=str(multiprocess_dir))
    else:
        registry.register(_ThisProcess())  # type: ignore[arg-type]
    registry.register(_CatalogueCollector(catalog))  # type: ignore[arg-type]
    return generate_latest(registry)


# ---- health ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    reason: str = ""


def _catalogue_check(catalog: Catalog) -> Check:
    try:
        catalog.check_ready()
    except (DatabaseUnavailable, SQLAlchemyError, OSError) as error:
        # The server log has the cause; the answer, to an unauthenticated probe, no address.
        log.warning("readiness: catalogue database does not answer (%s)", error)
        return Check("catalogue", False, "目录数据库无法访问 (catalogue database unreachable)")
    except GovshareError as error:  # reachable but not initialised: the hint to run init
        return Check("catalogue", False, error.message)
    return Check("catalogue", True)


def _lake_check(lake_path: str) -> Check:
    if "://" in lake_path:
        # Object storage: a listing would be a network round trip per probe; the first read
        # of a table reports trouble as 503 DATA_UNAVAILABLE instead.
        return Check("lake", True, "对象存储，未检查 (object store, not probed)")
    root = Path(lake_path)
    try:
        with os.scandir(root):
            pass
    except OSError as error:
        log.warning("readiness: lake root unreadable (%s)", type(error).__name__)
        return Check(
            "lake", False, f"数据湖目录不可读 (lake root unreadable: {type(error).__name__})"
        )
    return Check("lake", True)


def readiness(catalog: Catalog, lake_path: str) -> list[Check]:
    """Whether this worker can serve: the catalogue answers and the lake can be read."""
    return [_catalogue_check(catalog), _lake_check(lake_path)]


def readiness_body(checks: list[Check]) -> tuple[int, dict[str, Any]]:
    """HTTP status and body of ``/readyz``: 503 naming each failing check's reason."""
    failing = [c for c in checks if not c.ok]
    body: dict[str, Any] = {
        "status": "ready" if not failing else "unavailable",
        "checks": {c.name: {"ok": c.ok, "reason": c.reason} for c in checks},
    }
    if not failing:
        return 200, body
    body["errorCode"] = "NOT_READY"
    body["message"] = "；".join(c.reason for c in failing)
    return 503, body
