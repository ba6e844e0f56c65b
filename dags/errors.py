"""Errors of scheduled runs; like every govshare error, each says whether a retry could help."""

from __future__ import annotations

from infra.errors import GovshareError


class RunError(GovshareError):
    """Base of the scheduler's own refusals (the pipelines raise their own errors)."""

    status_code = 409
    error_code = "RUN_ERROR"


class GateHeld(RunError):
    """A batch is below its resource's pass-rate threshold (暂缓入库): a steward must look.

    Running again would read the same file and reach the same verdict, so never transient.
    """

    error_code = "QUALITY_HELD"


class PushOverdue(RunError):
    """The run finished after the end of the day it was due (same-day push rule)."""

    error_code = "PUSH_OVERDUE"


class NothingToRun(RunError):
    """An ingest DAG asked to run by hand with no new file in its landing folder.

    Run through Airflow's test runner, its sensor would wait for hours holding the run; the
    CLI refuses at once instead and says where the file is expected.
    """

    error_code = "NO_NEW_FILES"
