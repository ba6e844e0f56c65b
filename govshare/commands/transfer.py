"""``govshare catalog import`` / ``export`` (being written)."""

from __future__ import annotations

import typer


def register(catalog_app: typer.Typer) -> None:
    """Add the import and export commands to the catalog sub-command."""
