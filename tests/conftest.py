"""Shared fixtures: real SQLite and PostgreSQL catalogues, a settable clock, temp homes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

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
    return Clock(datetime(2026, 3, 3, 2, 0, tzinfo=UTC))


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


@pytest.fixture
def catalog(settings: Settings, clock: Clock) -> Iterator[Catalog]:
    store = Catalog(settings, clock=clock)
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def demo_catalog(catalog: Catalog) -> Catalog:
    from catalog.demo import seed_demo

    with catalog.unit() as ctx:
        seed_demo(ctx)
    return catalog
