"""Which mount counts: the one place that says it.

A resource can carry several mounts over time. Two questions are asked of them, and every
package asks them here so that the API, the DAGs, the snapshot, the gap report and the jobs
never disagree:

- **serving**: which mount makes the resource usable right now (已挂接, or 变更待审核 while a
  change waits: the current mapping keeps serving);
- **filled by ingest**: which 库表 mount a job writes into (any that was not returned: data may
  arrive before the mount is approved, and landing it is what makes it 已挂接).
"""

from __future__ import annotations

from catalog.domain import MountKind, MountState
from catalog.models import Mount, Resource

SERVING = frozenset({MountState.MOUNTED, MountState.CHANGE_PENDING})


def capability(resource: Resource, *, kind: MountKind | None = None) -> Mount | None:
    """The mount that makes a resource usable right now, if any (of ``kind``, if given)."""
    return next(
        (m for m in resource.mounts if m.state in SERVING and (kind is None or m.kind is kind)),
        None,
    )


def table_mount(resource: Resource) -> Mount | None:
    """The 库表 mount that ingestion fills (the first one that was not returned)."""
    return next(
        (
            m
            for m in resource.mounts
            if m.kind is MountKind.TABLE and m.state is not MountState.RETURNED
        ),
        None,
    )
