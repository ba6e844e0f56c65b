"""The deferrable ``wait_for_files`` sensor: the triggerer waits for a department's file.

A poking sensor holds a worker slot for the whole wait (three hours for a daily cycle) and a
rescheduling one wakes a task process every few minutes; deferred, the task frees its slot
and :class:`NewFilesTrigger` polls the landing folder inside Airflow's triggerer, an asyncio
loop shared by every waiting run, at the mount's poke interval. It fires with the new files,
or with ``timeout`` at the end of the mount's wait; the sensor then skips the run quietly
(nothing to push this time), as the poking sensor's ``soft_fail`` did.

The trigger is found by its class path (``dags.triggers.NewFilesTrigger``): the project is
installed in the triggerer's environment, so no DAGs-folder path is needed. ``dag.test()``
runs the trigger inline in the test process (Airflow 3.1's ``_run_inline_trigger``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.triggers.base import BaseTrigger, TriggerEvent

FOUND = "found"
TIMEOUT = "timeout"


def _new_files(resource_code: str, table: str) -> list[str]:
    from dags.tasks import new_files
    from infra.settings import get_settings

    return new_files(get_settings(), resource_code=resource_code, table=table)


class NewFilesTrigger(BaseTrigger):
    """Fires once a landing file of this resource is not settled yet, or at ``deadline``."""

    def __init__(
        self, *, resource_code: str, table: str, poke_seconds: float, deadline: str
    ) -> None:
        super().__init__()
        self.resource_code = resource_code
        self.table = table
        self.poke_seconds = poke_seconds
        self.deadline = deadline  # ISO 8601, UTC: survives a triggerer restart unchanged

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "resource_code": self.resource_code,
                "table": self.table,
                "poke_seconds": self.poke_seconds,
                "deadline": self.deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        deadline = datetime.fromisoformat(self.deadline)
        while True:
            # The catalogue and file hashes are blocking I/O: off the triggerer's event loop.
            paths = await asyncio.to_thread(_new_files, self.resource_code, self.table)
            if paths:
                yield TriggerEvent({"status": FOUND, "paths": paths})
                return
            remaining = (deadline - datetime.now(UTC)).total_seconds()
            if remaining <= 0:
                yield TriggerEvent({"status": TIMEOUT, "paths": []})
                return
            await asyncio.sleep(min(self.poke_seconds, remaining))


class WaitForFilesSensor(BaseSensorOperator):
    """New landing files of one resource: returned at once if present, else waited for deferred.

    ``timeout`` is the mount's wait (its update cycle's), ``poke_interval`` how often the
    trigger looks. The files found go to ``ingest_raw`` through XCom.
    """

    def __init__(self, *, resource_code: str, table: str, **kwargs: Any) -> None:
        kwargs.setdefault("soft_fail", True)  # no file by the end of the wait: skip quietly
        super().__init__(**kwargs)
        self.resource_code = resource_code
        self.table = table

    def poke(self, context: Any) -> bool:
        return bool(_new_files(self.resource_code, self.table))

    def execute(self, context: Any) -> list[str]:
        paths = _new_files(self.resource_code, self.table)
        if paths:
            return paths
        deadline = datetime.now(UTC) + timedelta(seconds=float(self.timeout))
        self.defer(
            trigger=NewFilesTrigger(
                resource_code=self.resource_code,
                table=self.table,
                poke_seconds=float(self.poke_interval),
                deadline=deadline.isoformat(),
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> list[str]:
        from airflow.exceptions import AirflowSkipException

        if event and event.get("status") == FOUND:
            return list(event["paths"])
        raise AirflowSkipException("等待期内没有新文件，本次不入库 (no new file within the wait)")
