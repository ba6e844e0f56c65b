"""A running batch's heartbeat: the job renews its lease in the catalogue while it works.

A job killed with ``kill -9`` (or a lost host) stops renewing; the next command that reads
batches marks the batch 失败 with the reason (``catalog.batches.expire_stale``), instead of
leaving it 处理中 until someone runs the same file again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from catalog import batches
from catalog.store import Catalog

log = logging.getLogger("govshare.ingest")


@contextmanager
def kept_alive(catalog: Catalog, *, batch_id: str) -> Iterator[None]:
    """Renew ``batch_id``'s lease every third of its length until the block ends.

    A thread, not the job's own loop: Spark blocks the driver for minutes at a time. A failed
    renewal is logged and tried again; only a dead process stops renewing for good.
    """
    every = catalog.settings.batch_lease_seconds / 3
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                with catalog.unit() as ctx:
                    if not batches.renew_lease(ctx, batch_id=batch_id):
                        return
            except Exception as error:  # the database may be briefly away; keep trying
                log.warning("批次租约续期失败 (lease renewal failed): %s", type(error).__name__)

    thread = threading.Thread(target=beat, name=f"lease-{batch_id[:8]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
