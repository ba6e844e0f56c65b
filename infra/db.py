"""Catalogue database engines and schema migrations.

SQLite under GOVSHARE_HOME is the embedded default; a PostgreSQL URL in the settings switches
the same code to a server. The schema is always created by Alembic, never by ``create_all``,
so both backends follow one migration history.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

from infra.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "catalog" / "migrations"


# Pages read through a memory map rather than copied in by read() into a 2 MB page cache:
# a search that looks up the codes of 12,000 matches scattered over a million resources
# took 22 ms of CPU that way, 9 ms mapped. Address space only; the OS cache holds the pages.
SQLITE_MMAP_BYTES = 2**31 - 2**16  # SQLite's default cap (SQLITE_MAX_MMAP_SIZE)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys are off by default in SQLite; WAL lets readers work during a write."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def _reason(error: BaseException) -> str:
    """The driver's own words, one line: "Connection refused", "timeout expired"..."""
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return first.rsplit("failed: ", 1)[-1].strip()[:200]


def unreachable_message(url: URL, error: BaseException) -> str:
    """Which database could not be reached and what to do, in one line (password hidden)."""
    if url.get_backend_name() == "sqlite":
        return (
            f"无法打开目录库 {url.database}：{_reason(error)}。请确认所在目录存在且可读写，"
            "或检查 GOVSHARE_HOME / GOVSHARE_DATABASE_URL (cannot open the catalogue database)"
        )
    return (
        f"无法连接目录库 {url.render_as_string(hide_password=True)}：{_reason(error)}。"
        "请确认数据库服务已启动、主机与端口可达，或检查 GOVSHARE_DATABASE_URL "
        "(catalogue database unreachable)"
    )


def _unreachable(context: ExceptionContext) -> None:
    """A failure to connect becomes one clear error; errors on a live connection stay as they
    are (they are the statement's, not the deployment's)."""
    if context.connection is not None or context.is_pre_ping:
        return
    error = context.original_exception
    raise DatabaseUnavailable(unreachable_message(context.engine.url, error)) from error  # type: ignore[union-attr]


def make_engine(url: str, *, connect_timeout: int = 3) -> Engine:
    """An engine with the per-backend settings the catalogue relies on.

    ``connect_timeout`` (seconds, PostgreSQL) bounds how long a command waits for a server
    that drops packets; an unreachable database raises :class:`DatabaseUnavailable`.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseUnavailable(unreachable_message(make_url(url), error)) from error
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        args = {"connect_timeout": connect_timeout} if url.startswith("postgresql") else {}
        engine = create_engine(url, pool_pre_ping=True, connect_args=args)
    event.listen(engine, "handle_error", _unreachable)
    return engine


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # imported late: half a second every command would pay

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run on an up-to-date database."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
