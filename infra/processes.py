"""Detached service processes: start each in its own process group, stop the whole group.

``govshare spark up`` and ``govshare airflow up`` start long-running services that outlive the
command; each leads its own process group (its children, Spark executors or Airflow's task
and parser processes, stay in it), so stopping the group leaves nothing running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path


def launch(
    args: list[str], *, env: dict[str, str], log: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``args`` detached from this terminal, output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            args, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=cwd, start_new_session=True,  # its own process group: stop ends its children too
        )  # fmt: skip


def cmdline(pid: int) -> bytes:
    """The command line of a running pid (empty when it does not exist)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def group_alive(pgid: int) -> bool:
    """Any live (not zombie) process still in the group."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name: state, ppid, pgrp, ...
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            return True
    return False


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _reap(pid: int) -> None:
    """Collect the exit status when the leader is our child (up and down in one process)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def end_groups(pgids: Iterable[int], *, grace: float = 15.0) -> list[int]:
    """SIGTERM every group, SIGKILL what is left after ``grace`` seconds; the groups killed."""
    pending = [p for p in pgids if group_alive(p)]
    for pgid in pending:
        _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pending and time.monotonic() < deadline:
        for pgid in pending:
            _reap(pgid)
        pending = [p for p in pending if group_alive(p)]
        if pending:
            time.sleep(0.2)
    for pgid in pending:
        _signal_group(pgid, signal.SIGKILL)
    for pgid in pending:
        for _ in range(50):  # SIGKILL cannot be refused; wait for the kernel to finish
            _reap(pgid)
            if not group_alive(pgid):
                break
            time.sleep(0.1)
    return pending
