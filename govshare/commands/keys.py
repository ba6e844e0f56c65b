"""``govshare keys`` and ``govshare serve`` (being written)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the keys sub-command and serve to the main app."""
