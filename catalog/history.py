"""The catalogue's one history: who changed what, when, and how it looked before and after.

Every service that moves a catalogue object writes its entry here, in the same unit of work
as the change, so the history can never disagree with the state it describes.
"""

from __future__ import annotations

from typing import Any

from catalog.context import Actor, CatalogContext
from catalog.models import HistoryEntry


def record(
    ctx: CatalogContext,
    *,
    entity: str,
    entity_id: int,
    action: str,
    actor: Actor,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    ctx.session.add(
        HistoryEntry(
            entity=entity,
            entity_id=entity_id,
            action=action,
            actor=actor.name,
            at=ctx.now(),
            before=before,
            after=after,
        )
    )
