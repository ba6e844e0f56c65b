"""Every process that runs jobs redacts its logs, not only the API server.

A job's failure is logged with its traceback (``jobs.sharing`` on a refresh that failed, the
CLI on an unexpected error); the exception's text may quote a row. The redaction is installed
by the CLI entry, the API app and the DAG file (which Airflow's task processes import), and it
must reach loggers and handlers that are made after it was installed.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra import redaction

ID_NUMBER = "11010519491231002X"
PROBE = """
import logging, sys
{setup}
log = logging.getLogger("probe.job")
handler = logging.StreamHandler(sys.stdout)  # made after the entry point ran
log.addHandler(handler)
log.propagate = False
try:
    raise ValueError("row 7: 身份证号 {id_number} 校验位错误")
except ValueError:
    log.exception("refresh failed for {id_number}")
"""


@pytest.fixture
def restored_factory() -> Iterator[None]:
    before = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(before)


def test_a_logger_and_handler_made_after_install_are_redacted(restored_factory: None) -> None:
    redaction.install()
    redaction.install()  # idempotent: one factory, not two nested
    out = io.StringIO()
    log = logging.getLogger("tests.redaction.late")
    log.addHandler(logging.StreamHandler(out))
    log.propagate = False
    try:
        raise ValueError(f"row 7: {ID_NUMBER} invalid")
    except ValueError:
        log.exception("failed for %s", ID_NUMBER)
    text = out.getvalue()
    assert ID_NUMBER not in text
    assert text.count(redaction.REDACTED) == 2  # the message and the exception in the traceback
    assert "Traceback" in text and "ValueError" in text  # redacted, not dropped


def _run_probe(setup: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOVSHARE_HOME": str(home)}
    code = PROBE.format(setup=setup, id_number=ID_NUMBER)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )


@pytest.mark.parametrize(
    "setup",
    [
        # the CLI entry point, as `govshare --help` leaves the process
        "from govshare import cli\nsys.argv = ['govshare', '--help']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass",
        # the DAG file, as Airflow's parser and task processes import it
        "import dags.govshare_dags",
    ],
    ids=["cli", "dag-file"],
)
def test_each_entry_point_redacts_the_logs_of_what_it_runs(setup: str, tmp_path: Path) -> None:
    result = _run_probe(setup, tmp_path)
    assert ID_NUMBER not in result.stdout + result.stderr
    assert "Traceback" in result.stdout and redaction.REDACTED in result.stdout


def test_without_an_entry_point_the_probe_would_leak(tmp_path: Path) -> None:
    """The probe itself can fail: with nothing installed the ID number reaches the log."""
    result = _run_probe("", tmp_path)
    assert ID_NUMBER in result.stdout
