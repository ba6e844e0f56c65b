"""A running batch's lease, on both catalogue backends: renewed while alive, expired after."""

from __future__ import annotations

from catalog import batches, repository
from catalog.store import Catalog

REGISTRATION = "000001001/000001"


def _start(catalog: Catalog, batch_id: str) -> None:
    with catalog.unit() as ctx:
        resource = repository.resource(ctx.session, REGISTRATION)
        mount = batches.ensure_table_mount(ctx, resource)
        batches.start_batch(
            ctx,
            batch_id=batch_id,
            resource=resource,
            mount=mount,
            source_file="reg.csv",
            file_sha256="0" * 64,
            file_bytes=1,
        )


def _status(catalog: Catalog, batch_id: str) -> tuple[str, str]:
    with catalog.unit() as ctx:
        found = {b.batch_id: b for b in batches.batches(ctx)}[batch_id]
        return found.status, found.message


def test_a_batch_whose_job_stops_renewing_fails_after_its_lease(demo_catalog, clock) -> None:
    lease = demo_catalog.settings.batch_lease_seconds
    _start(demo_catalog, "alive")
    _start(demo_catalog, "killed")

    clock.advance(seconds=lease * 2 / 3)
    with demo_catalog.unit() as ctx:
        assert batches.renew_lease(ctx, batch_id="alive")  # the live job's heartbeat
    assert _status(demo_catalog, "killed") == (batches.RUNNING, "")  # within its lease

    clock.advance(seconds=lease / 3 + 1)
    assert _status(demo_catalog, "alive")[0] == batches.RUNNING
    status, message = _status(demo_catalog, "killed")
    assert status == batches.FAILED and message == batches.INTERRUPTED
    assert "作业中断（租约过期）" in message
    with demo_catalog.unit() as ctx:
        assert not batches.renew_lease(ctx, batch_id="killed")  # a settled batch stays so
