"""Where a batch's passing rows wait between the ingest's stage step and its publish.

Outside every table's folder (no reader looks there) and on the lake's filesystem, so that
staging and publishing are renames and links, never copies of the data.
"""

from __future__ import annotations

from pathlib import Path

from infra.settings import Settings


def staging_path(settings: Settings, table: str, batch_id: str) -> Path:
    """Where a batch's passing rows wait for the gate's decision, and a held batch's for a
    steward."""
    return Path(settings.lake_path) / "_staging" / table / batch_id


def staged_rows(settings: Settings, table: str, batch_id: str) -> bool:
    """Whether the batch's passing rows are still waiting in staging."""
    folder = staging_path(settings, table, batch_id)
    return folder.is_dir() and any(folder.glob("*.parquet"))
