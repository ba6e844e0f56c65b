"""Catalogues for tests: a settable clock, per-test PostgreSQL databases and templates.

A helper module, not a conftest: the root and the package conftests import it, so no conftest
imports another.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

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


PG_PROBLEM = _postgres_available()


@functools.cache
def _pg_admin() -> Engine:
    """One pooled connection to the server per test process: every test creates and drops a
    database, and a new engine per statement paid a fresh connection each time."""
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_size=1)


def _pg_url(database: str) -> str:
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database}"


def _pg_database(url: str) -> str:
    return url.split("?", 1)[0].rsplit("/", 1)[1]


def _pg_create(database: str, *, template: str = "template0") -> None:
    """A database of its own per test (was a schema): a copy of a template costs ~70 ms."""
    with _pg_admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{template}"'))


def _pg_drop(database: str) -> None:
    with _pg_admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def postgres_url(template: str = "template0") -> Iterator[str]:
    """A new database for one test, empty or a copy of ``template``; dropped afterwards."""
    if PG_PROBLEM:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires the PostgreSQL tests to run: {PG_PROBLEM}")
        pytest.skip(PG_PROBLEM)
    database = f"t_{uuid.uuid4().hex[:12]}"
    _pg_create(database, template=template)
    try:
        yield _pg_url(database)
    finally:
        _pg_drop(database)


START = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


class Templates:
    """Catalogues built once per session (per xdist worker) and copied per test: migrating
    costs ~0.4-2 s and seeding the demo ~1-2.4 s, a copy a few milliseconds (the full-stack
    FastAPI template's session-scoped database, adapted to per-test copies). SQLite copies the
    file; PostgreSQL creates the test's database from a template database. The templates
    themselves are migrated every session on both backends, so the migrations stay tested.

    ``demo`` and ``migrated`` are built at the tests' clock (``START``); ``demo-now`` at the
    wall clock, for the lake and DAG tests, whose catalogue used to be seeded as they started.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.built: dict[str, Path] = {}
        self.pg_built: dict[str, str] = {}
        self.copies: dict[str, str] = {}  # catalogue URL -> the kind it is an untouched copy of

    @staticmethod
    def _build(settings: Settings, kind: str) -> None:
        store = Catalog(settings) if kind == "demo-now" else Catalog(settings, clock=Clock(START))
        store.migrate()
        if kind.startswith("demo"):
            from demo.catalog import seed_demo

            with store.unit() as ctx:
                seed_demo(ctx)
        store.dispose()

    def path(self, kind: str) -> Path:
        if kind not in self.built:
            target = self.folder / f"{kind}.db"
            self._build(Settings(home=self.folder / kind, database_url=f"sqlite:///{target}"), kind)
            self.built[kind] = target
        return self.built[kind]

    def pg(self, kind: str) -> str:
        """The name of this session's PostgreSQL template database of ``kind``."""
        if kind not in self.pg_built:
            database = f"tmpl_{uuid.uuid4().hex[:10]}_{kind.replace('-', '_')}"
            _pg_create(database)
            url = _pg_url(database)
            self._build(Settings(home=self.folder / f"pg-{kind}", database_url=url), kind)
            self.pg_built[kind] = database
        return self.pg_built[kind]

    def postgres_url(self, kind: str) -> Iterator[str]:
        """A test's PostgreSQL database made as a copy of ``kind`` at once: one CREATE, where
        creating it empty and replacing it by the copy took three statements more."""
        for url in postgres_url(template=self.pg(kind)):
            self.copies[url] = kind
            yield url
            self.copies.pop(url, None)

    def copy(self, kind: str, settings: Settings) -> None:
        """Make ``settings``' catalogue a copy of the template ``kind`` (replacing it), unless
        it was made as one (``postgres_url``) or copied from it already."""
        url = settings.catalog_url
        if self.copies.get(url) == kind:
            return
        self.copies[url] = kind
        file = sqlite_file(settings)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.path(kind), file)
        elif url.startswith("postgresql"):
            template = self.pg(kind)
            database = _pg_database(url)
            _pg_drop(database)
            _pg_create(database, template=template)
        else:
            raise ValueError(f"no template for {url}")

    def close(self) -> None:
        for database in self.pg_built.values():
            _pg_drop(database)


def sqlite_file(settings: Settings) -> Path | None:
    url = settings.catalog_url
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
