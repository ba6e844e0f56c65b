"""The trigger behind the deferrable `wait_for_files`: it fires with the files, or at its
deadline, and survives serialisation (the triggerer rebuilds it from its class path)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.settings import Settings
from tests.pipelines.conftest import REG_TABLE, REGISTRATION, registration_row, write_csv


def _first_event(trigger: Any) -> Any:
    async def first() -> Any:
        return await anext(trigger.run())

    return asyncio.run(asyncio.wait_for(first(), timeout=60))


def _rebuilt(deadline: datetime) -> Any:
    from airflow.utils.module_loading import import_string

    from dags.triggers import NewFilesTrigger

    made = NewFilesTrigger(
        resource_code=REGISTRATION, table=REG_TABLE, poke_seconds=0.1, deadline=deadline.isoformat()
    )
    classpath, kwargs = made.serialize()
    assert classpath == "dags.triggers.NewFilesTrigger"
    return import_string(classpath)(**kwargs)


def test_the_trigger_fires_with_the_new_files(dag_settings: Settings) -> None:
    path = write_csv(dag_settings.landing_dir / REG_TABLE / "day1.csv", [registration_row(1)])

    event = _first_event(_rebuilt(datetime.now(UTC) + timedelta(hours=3)))

    assert event.payload == {"status": "found", "paths": [str(path)]}


def test_the_trigger_gives_up_at_its_deadline(dag_settings: Settings) -> None:
    event = _first_event(_rebuilt(datetime.now(UTC) + timedelta(seconds=0.3)))

    assert event.payload == {"status": "timeout", "paths": []}
