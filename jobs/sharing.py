"""Delta Sharing's masked files kept current: written after each table commit, pruned daily.

``refresh_shares`` runs after a table's commit (``jobs.batch.publish_one`` for validated
tables, the theme build for 一企一档 / 一人一档): every live grant already shared from the
table gets the new version written by its newest recipe (``lake.masked``), so the next query
finds it instead of masking a million rows while the analyst waits. A grant never read, or
whose grant or rules changed since, is planned afresh by its next query (the API computes the
recipe; its fingerprint names the folder, so the job can never serve a stale mask).

``prune_shares`` runs with lake maintenance (the maintenance DAG, ``govshare lake maintain``,
``govshare sharing prune``): it removes the folders of grants no longer live
and of versions outside the lake's time-travel window (``lake.maintenance.versions_in_window``,
the versions ``version=`` / ``timestamp=`` queries can still ask for), keeping every folder
it cannot judge.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from deltalake import DeltaTable

from catalog import repository
from catalog.store import Catalog
from infra.settings import Settings
from lake.delta import TableRef
from lake.maintenance import versions_in_window, window_of
from lake.masked import MaskedFolder, masked_folders, prune, replay, sharing_root

log = logging.getLogger("govshare.jobs.sharing")


@dataclass
class SharingRefresh:
    """What one refresh wrote: grant ids and the table version they now have."""

    table: str
    version: int
    grants: list[int] = field(default_factory=list)


def _live_grants(settings: Settings, now: datetime) -> set[int]:
    """Grants not revoked and not expired at ``now``, as the API's share listing counts them."""
    catalog = Catalog(settings)
    try:
        with catalog.unit() as ctx:
            return {g.id for g in repository.grants(ctx.session, active_at=now)}
    finally:
        catalog.dispose()


def refresh_shares(
    settings: Settings, *, table: TableRef, today: date, now: datetime
) -> SharingRefresh:
    """Write the current version of ``table`` for each live grant already shared from it."""
    root = sharing_root(settings.home)
    delta = DeltaTable(table.uri)
    report = SharingRefresh(table=table.qualified, version=delta.version())
    if not masked_folders(root):
        return report  # nothing shared yet: no catalogue or table read needed
    live = _live_grants(settings, now)
    written = replay(
        root, table_uri=table.uri, version=report.version, source=delta.to_pyarrow_dataset(),
        today=today, live=live.__contains__,
    )  # fmt: skip
    report.grants = sorted(written)
    return report


def refresh_after_commit(
    settings: Settings, *, table: TableRef, today: date, now: datetime
) -> SharingRefresh | None:
    """:func:`refresh_shares` where a commit has just succeeded: a failure is logged, never
    raised, since the commit stands and the next query masks the version itself."""
    try:
        return refresh_shares(settings, table=table, today=today, now=now)
    except Exception:
        log.warning("Delta Sharing refresh of %s failed; queries will mask it", table.qualified,
                    exc_info=True)  # fmt: skip
        return None


def prune_shares(
    settings: Settings, *, now: datetime, tables: Collection[str] | None = None
) -> list[str]:
    """Remove masked folders no live grant or readable table version needs; returns them.

    ``tables`` (table URIs) limits the pruning to folders masked from those tables, as
    ``govshare lake maintain TABLE`` does; a folder whose table is not recorded is then kept.
    """
    root = sharing_root(settings.home)
    folders = masked_folders(root)
    if not folders:
        return []
    live = _live_grants(settings, now)
    window = window_of(settings)
    readable: dict[str, set[int] | None] = {}
    newest: dict[int, int] = {}
    for folder in folders:
        newest[folder.grant_id] = max(folder.version, newest.get(folder.grant_id, -1))

    def versions(table_uri: str) -> set[int] | None:
        if table_uri not in readable:
            try:
                delta = DeltaTable(table_uri)
                readable[table_uri] = set(versions_in_window(delta, window=window, now=now))
            except Exception:  # unreadable now: judge nothing by it
                readable[table_uri] = None
        return readable[table_uri]

    def keep(folder: MaskedFolder) -> bool:
        recipe = folder.manifest().recipe
        if tables is not None and (recipe is None or recipe.table_uri not in tables):
            return True  # not one of the tables maintained now
        if folder.grant_id not in live:
            return False
        if recipe is None:  # written before recipes were recorded: keep the newest only
            return folder.version == newest[folder.grant_id]
        inside = versions(recipe.table_uri)
        return inside is None or folder.version in inside

    removed = prune(root, keep=keep, now=now)
    if removed:
        log.info("Delta Sharing: %d masked folders removed", len(removed))
    return removed
