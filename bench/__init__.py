"""Benchmarks: speed is measured here against a plain baseline in the same run, never asserted."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch_run(work: Path) -> Iterator[Path]:
    """Remove ``work`` afterwards, and stop the Spark session if this run started it.

    A benchmark's session keeps its scratch folders under ``work``; a session left running
    after they are gone breaks the next user of the process's session (the tests run the
    benchmarks one after another).
    """
    from pipelines import spark as spark_module

    own_session = spark_module._session is None
    try:
        yield work
    finally:
        if own_session:
            spark_module.stop_spark()
        shutil.rmtree(work, ignore_errors=True)
