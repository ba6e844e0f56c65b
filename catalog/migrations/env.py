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
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
