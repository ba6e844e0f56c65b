"""Opening the catalogue: one engine per process, one context per unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import Session

from catalog.context import CatalogContext, utcnow
from catalog.snapshot import write_snapshot
from catalog.workdays_notices import load_calendar
from infra import db
from infra.errors import ConfigurationError
from infra.settings import Settings

CAPABILITIES_CHANGED = "govshare.capabilities_changed"
SEARCH_STALE = "govshare.search_stale"


def _note_capability_change(session: Session, _context: object, _instances: object) -> None:
    from catalog.models import Mount, Resource, Theme

    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, Resource | Mount | Theme) for obj in touched):
        session.info[CAPABILITIES_CHANGED] = True


def _note_search_change(session: Session, _context: object) -> None:
    """Remember which resources' search documents this flush made stale (ids exist now)."""
    from catalog.models import DataItem, Resource

    stale: set[int] = session.info.setdefault(SEARCH_STALE, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Resource) and obj.id is not None:
            stale.add(obj.id)
        elif isinstance(obj, DataItem) and obj.resource_id is not None:
            stale.add(obj.resource_id)


def _reindex_before_commit(session: Session) -> None:
    """Refresh the search documents in the transaction that changed them: whatever creates,
    edits, imports or moves a resource, search agrees with the catalogue once it commits."""
    session.flush()
    stale = session.info.pop(SEARCH_STALE, None)
    if stale:
        from catalog import search  # only when something changed: read-only commands skip it

        search.index_resources(session.connection(), stale)


class Catalog:
    """The catalogue database of one deployment."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.clock = clock
        self.engine: Engine = db.make_engine(
            settings.catalog_url, connect_timeout=settings.database_connect_timeout
        )
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
        """A transaction: everything inside commits together or not at all.

        When it changed a resource or a mount, the capability snapshot the Airflow DAG file
        reads is refreshed after the commit: the scheduler follows the catalogue without ever
        querying it while parsing.
        """
        with db.transaction(self._factory) as session:
            event.listen(session, "before_flush", _note_capability_change)
            event.listen(session, "after_flush", _note_search_change)
            event.listen(session, "before_commit", _reindex_before_commit)
            yield CatalogContext(
                session=session,
                settings=self.settings,
                clock=self.clock,
                calendar_loader=load_calendar,
            )
            session.flush()
            changed = session.info.pop(CAPABILITIES_CHANGED, False)
        if changed:
            write_snapshot(self.settings, catalog=self)

    def dispose(self) -> None:
        self.engine.dispose()


def refresh_snapshot(settings: Settings) -> bool:
    """Rewrite the capability snapshot from a catalogue opened for the purpose."""
    catalog = Catalog(settings)
    try:
        return write_snapshot(settings, catalog=catalog)
    finally:
        catalog.dispose()
