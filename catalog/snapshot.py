"""The capability list (能力清单) as a JSON file the scheduler reads.

Airflow parses DAG files often and must never query the catalogue while doing so, so the
catalogue writes what the DAG factory needs into one small file whenever it changes: every
published resource with a usable 库表 mount, its update cycle and its table. Only fields that
change the generated DAGs are written, and the file is rewritten only when its content
differs, so a batch landing does not make Airflow re-parse anything.

Call :func:`write_snapshot` after a change to resources or mounts (``govshare dags sync``
does it too); the file is replaced atomically, so a parser never sees half of it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from infra.settings import Settings

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlalchemy.orm import Session

    from catalog.context import CatalogContext


class Units(Protocol):
    """What the snapshot needs of a catalogue: units of work (``catalog.store.Catalog``)."""

    def unit(self) -> AbstractContextManager[CatalogContext]: ...


SNAPSHOT_FORMAT = "govshare-capabilities/1"
SNAPSHOT_NAME = "capabilities.json"


def snapshot_path(settings: Settings) -> Path:
    """Where the DAG file looks for the capability list: next to Airflow's home."""
    return settings.airflow_home / SNAPSHOT_NAME


def build_snapshot(session: Session) -> dict[str, Any]:
    """The capability list as plain data, ordered by resource code so the file is stable."""
    from catalog import repository
    from catalog.domain import MountKind, ResourceClass, ResourceState
    from catalog.mounts import capability

    # Only a 主题 resource a steward has defined as a theme is built by the theme DAG.
    defined = {t.resource_id: t.code for t in repository.themes(session)}
    capabilities: list[dict[str, Any]] = []
    for resource in repository.resources(
        session, states=[ResourceState.PUBLISHED, ResourceState.RETIRING]
    ):
        mount = capability(resource, kind=MountKind.TABLE)
        if mount is None:
            continue
        config = mount.config or {}
        capabilities.append(
            {
                "resource_code": resource.code,
                "resource_name": resource.name,
                "classification": str(resource.classification),
                "theme": resource.classification is ResourceClass.THEME,
                "theme_code": defined.get(resource.id),
                "provider_code": resource.provider.code,
                "provider_name": resource.provider.short_name or resource.provider.name,
                "resource_state": str(resource.state),
                "update_cycle": str(resource.update_cycle),
                "mount_id": mount.id,
                "mount_state": str(mount.state),
                "table": mount.target,
                # A deployment may override the cycle's default timing per mount.
                "schedule": config.get("schedule"),
            }
        )
    capabilities.sort(key=lambda c: c["resource_code"])
    return {"format": SNAPSHOT_FORMAT, "capabilities": capabilities}


def _write_if_changed(path: Path, content: dict[str, Any]) -> bool:
    text = json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".capabilities-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def write_snapshot(settings: Settings, *, catalog: Units) -> bool:
    """Refresh the snapshot file from the catalogue; True when its content changed.

    ``catalog.store.refresh_snapshot`` opens a catalogue for callers that have none.
    """
    with catalog.unit() as ctx:
        content = build_snapshot(ctx.session)
    return _write_if_changed(snapshot_path(settings), content)


def read_snapshot(path: Path) -> dict[str, Any]:
    """The snapshot as written; an absent file is an empty capability list (nothing synced)."""
    if not path.exists():
        return {"format": SNAPSHOT_FORMAT, "capabilities": []}
    content: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if content.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"unknown capability snapshot format {content.get('format')!r} in {path}")
    return content
