"""Shared fixtures: real SQLite and PostgreSQL catalogues, a settable clock, temp homes."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from catalog.store import Catalog
from infra.settings import Settings
from tests.catalogues import START, Clock, Templates, postgres_url


@pytest.fixture(scope="session", autouse=True)
def _isolate_caches(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Spark, DuckDB and friends write caches to the home directory; keep them in tmp."""
    os.environ.setdefault("GOVSHARE_TEST_TMP", str(tmp_path_factory.getbasetemp()))


# The suite's JVMs (Spark drivers, a standalone cluster's daemons and executors, in this
# process or in the CLI and Airflow processes a test starts) live for seconds on small data.
# The C2 compiler's work never pays back there: C1 alone and the serial collector took the
# CPU seconds of the Spark tests down by about a third (the suite is CPU-bound on 2 cores).
# Semantics do not change; deployments keep the JVM's defaults.
_QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def pytest_configure(config: pytest.Config) -> None:
    """Before anything starts a JVM, in the controller and in each xdist worker."""
    _quick_test_jvms()
    # py4j closes its connections from __del__ at interpreter exit and says so at INFO; by
    # then the stream Airflow's logging configuration holds (pytest's capture) is closed, and
    # each worker printed a "--- Logging error ---" traceback at the end of the run.
    logging.getLogger("py4j").setLevel(logging.WARNING)


def _quick_test_jvms() -> None:
    os.environ.setdefault("SPARK_SUBMIT_OPTS", _QUICK_JVM)  # drivers (spark-submit's launcher)
    os.environ.setdefault("SPARK_DAEMON_JAVA_OPTS", _QUICK_JVM)  # standalone master, workers
    os.environ.setdefault(  # executors; PySpark appends these arguments to spark-submit's
        "PYSPARK_SUBMIT_ARGS",
        f'--conf spark.executor.defaultJavaOptions="{_QUICK_JVM}" pyspark-shell',
    )


@pytest.fixture
def clock() -> Clock:
    # A Tuesday morning in Beijing, inside the 2026 calendar the holiday package knows.
    return Clock(START)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Every catalogue test runs on both backends."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
        return
    kind = _catalogue_kind(request)
    if kind is None:
        yield from postgres_url()
    else:  # made as the copy ``catalog`` would replace it with
        yield from request.getfixturevalue("_templates").postgres_url(kind)


def _catalogue_kind(request: pytest.FixtureRequest) -> str | None:
    """The template a test's ``catalog`` is copied from: None when it is built at another
    clock (migrated, and seeded by ``demo_catalog``, as that clock reads)."""
    names = request.fixturenames
    if "catalog" not in names or request.getfixturevalue("clock").current != START:
        return None
    return "demo" if "demo_catalog" in names else "migrated"


@pytest.fixture
def settings(tmp_path, database_url: str) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(home=tmp_path / "home", database_url=database_url)


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    templates = Templates(tmp_path_factory.mktemp("catalogue-templates"))
    yield templates
    templates.close()


@pytest.fixture
def catalog(
    request: pytest.FixtureRequest, settings: Settings, clock: Clock, _templates: Templates
) -> Iterator[Catalog]:
    kind = _catalogue_kind(request)
    if kind is not None:
        _templates.copy(kind, settings)
        store = Catalog(settings, clock=clock)
    else:
        store = Catalog(settings, clock=clock)
        store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def demo_catalog(catalog: Catalog, _templates: Templates) -> Catalog:
    if _templates.copies.get(catalog.settings.catalog_url) == "demo":  # made so by ``catalog``
        from catalog.snapshot import write_snapshot

        write_snapshot(catalog.settings, catalog=catalog)  # as seeding's commit hook does
        return catalog
    from demo.catalog import seed_demo

    with catalog.unit() as ctx:
        seed_demo(ctx)
    return catalog


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--load-seconds",
        type=float,
        default=10.0,
        help="how long the mixed-load test of several API workers runs (make soak: 60)",
    )


# Markers from what a test uses, so lanes can be chosen without editing each test file.
_SPARK_FIXTURES = {"lake_settings", "spark", "stop_spark_after", "dag_settings"}
_AIRFLOW_FIXTURES = {"dag_settings", "airflow_home"}
_BROWSER_FIXTURES = {"browser"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & _SPARK_FIXTURES:
            item.add_marker(pytest.mark.spark)
        if used & _AIRFLOW_FIXTURES:
            item.add_marker(pytest.mark.airflow)
        if used & _BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgresql" in callspec.params.values():
            item.add_marker(pytest.mark.postgres)
    # In every xdist worker: a worker's own options say dist "no", so the controller's
    # --dist cannot be read here; the order is made for worksteal (make test).
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items[:] = _heavy_at_both_halves_starts(items)


_HEAVY = ("slow", "spark", "airflow", "e2e", "concurrency", "browser")


def _heavy_at_both_halves_starts(items: list[pytest.Item]) -> list[pytest.Item]:
    """The order for ``--dist worksteal`` (``make test``, ``make check``): it hands each
    worker one half of the list and lets an idle worker take the tail of the other's queue.
    The heavy tests (Spark, Airflow, Chromium, servers under load: under a tenth of the tests,
    over half the CPU time) go to the starts of the two halves, module by module, so each
    worker begins with half of them and the last minutes are short tests that balance out; in
    collection order they came late and one worker finished a long test alone. Every worker
    sorts the same way."""
    heavy: dict[str, list[pytest.Item]] = {}
    light = []
    for item in items:
        if any(item.get_closest_marker(name) for name in _HEAVY):
            heavy.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
        else:
            light.append(item)
    halves: tuple[list[pytest.Item], list[pytest.Item]] = ([], [])
    for module in sorted(heavy.values(), key=len, reverse=True):  # greedy: fullest module first
        min(halves, key=len).extend(module)
    split = len(items) // 2 - len(halves[0])  # light tests completing the first half
    return [*halves[0], *light[:split], *halves[1], *light[split:]]
