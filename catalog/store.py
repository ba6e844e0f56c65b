"""Opening the catalogue: one engine per process, one context per unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, inspect

from catalog.context import CatalogContext, utcnow
from infra import db
from infra.errors import ConfigurationError
from infra.settings import Settings


class Catalog:
    """The catalogue database of one deployment."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.clock = clock
        self.engine: Engine = db.make_engine(settings.catalog_url)
        self._factory = db.session_factory(self.engine)

    def migrate(self) -> None:
        db.upgrade(self.engine)

    def check_ready(self) -> None:
        """Fail with a clear hint when ``govshare init`` has not been run."""
        if not inspect(self.engine).has_table("resources"):
            raise ConfigurationError(
                "目录库尚未初始化，请先运行 govshare init (catalogue not initialised)"
            )

    @contextmanager
    def unit(self) -> Iterator[CatalogContext]:
        """A transaction: everything inside commits together or not at all."""
        with db.transaction(self._factory) as session:
            yield CatalogContext(session=session, settings=self.settings, clock=self.clock)

    def dispose(self) -> None:
        self.engine.dispose()
