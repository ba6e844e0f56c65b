"""Alembic environment: the engine comes from ``infra.db`` (config attributes) or the settings."""

from __future__ import annotations

from alembic import context

from catalog.models import Base

config = context.config
target_metadata = Base.metadata


def _engine():  # type: ignore[no-untyped-def]
    engine = config.attributes.get("engine")
    if engine is None:
        from infra.db import make_engine
        from infra.settings import get_settings

        engine = make_engine(get_settings().catalog_url)
    return engine


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a column by rebuilding its table (batch mode): with foreign keys
            # enforced, dropping the old copy of a table other rows reference fails on any
            # catalogue that holds data. Off for the migration (a PRAGMA outside any
            # transaction), every reference checked afterwards, back on for the pool.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
        )
        try:
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken references: {broken[:5]}")
            connection.commit()
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


run_migrations_online()
