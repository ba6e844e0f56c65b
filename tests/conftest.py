"""Shared fixtures: real SQLite and PostgreSQL catalogues, a settable clock, temp homes."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from catalog.store import Catalog
from infra.settings import Settings

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class Clock:
    """A clock tests move by hand, so deadlines can be crossed without waiting."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self.current = moment


def _postgres_available() -> str | None:
    """None when the server answers, else the reason it does not."""
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as error:  # any failure to connect means: no server here
        return f"PostgreSQL at 127.0.0.1:5432 does not answer ({type(error).__name__})"
    return None


_PG_PROBLEM = _postgres_available()


@pytest.fixture(scope="session", autouse=True)
def _isolate_caches(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Spark, DuckDB and friends write caches to the home directory; keep them in tmp."""
    os.environ.setdefault("GOVSHARE_TEST_TMP", str(tmp_path_factory.getbasetemp()))


@pytest.fixture
def clock() -> Clock:
    # A Tuesday morning in Beijing, inside the 2026 calendar the holiday package knows.
    return Clock(START)


def _postgres_url() -> Iterator[str]:
    if _PG_PROBLEM:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires the PostgreSQL tests to run: {_PG_PROBLEM}")
        pytest.skip(_PG_PROBLEM)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Every catalogue test runs on both backends."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
    else:
        yield from _postgres_url()


@pytest.fixture
def settings(tmp_path, database_url: str) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(home=tmp_path / "home", database_url=database_url)


START = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


class _Templates:
    """SQLite catalogues built once per session and copied per test: migrating costs ~2 s and
    seeding the demo ~2.4 s, a copy a few milliseconds (the full-stack FastAPI template's
    session-scoped database, adapted to per-test files). PostgreSQL tests still migrate their
    own schema, so the migrations themselves stay tested on both backends every run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.built: dict[str, Path] = {}

    def path(self, kind: str) -> Path:
        if kind not in self.built:
            target = self.folder / f"{kind}.db"
            settings = Settings(home=self.folder / kind, database_url=f"sqlite:///{target}")
            store = Catalog(settings, clock=Clock(START))
            store.migrate()
            if kind == "demo":
                from demo.catalog import seed_demo

                with store.unit() as ctx:
                    seed_demo(ctx)
            store.dispose()
            self.built[kind] = target
        return self.built[kind]


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> _Templates:
    return _Templates(tmp_path_factory.mktemp("catalogue-templates"))


def _sqlite_file(settings: Settings) -> Path | None:
    url = settings.catalog_url
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


@pytest.fixture
def catalog(settings: Settings, clock: Clock, _templates: _Templates) -> Iterator[Catalog]:
    file = _sqlite_file(settings)
    if file is not None and clock.current == START:
        file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_templates.path("migrated"), file)
        store = Catalog(settings, clock=clock)
    else:
        store = Catalog(settings, clock=clock)
        store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def demo_catalog(catalog: Catalog, _templates: _Templates) -> Catalog:
    file = _sqlite_file(catalog.settings)
    if file is not None and catalog.clock() == START:
        from catalog.snapshot import write_snapshot

        catalog.dispose()  # no connection may hold the file being replaced
        shutil.copyfile(_templates.path("demo"), file)
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
        default=20.0,
        help="how long the mixed-load test of several API workers runs (by hand: 60)",
    )


# Markers from what a test uses, so lanes can be chosen without editing each test file.
_SPARK_FIXTURES = {"lake_settings", "spark", "stop_spark_after", "dag_settings"}
_AIRFLOW_FIXTURES = {"dag_settings", "airflow_home"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & _SPARK_FIXTURES:
            item.add_marker(pytest.mark.spark)
        if used & _AIRFLOW_FIXTURES:
            item.add_marker(pytest.mark.airflow)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgresql" in callspec.params.values():
            item.add_marker(pytest.mark.postgres)
