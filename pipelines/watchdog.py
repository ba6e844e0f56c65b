"""Spark's JVM dies with the Python process that started it.

PySpark starts the JVM as a child and counts on it exiting when its stdin pipe closes; a
``kill -9`` of the driver once left the JVM running (holding memory and scratch files on a
2-core host). PySpark sets the JVM's ``preexec_fn`` itself, so no parent-death signal can be
armed there; instead a tiny process watches the driver and the JVM and, when the driver is
gone, ends the JVM and its children (Python workers): SIGTERM, then SIGKILL after a grace.

Run as ``python -m pipelines.watchdog DRIVER_PID JVM_PID``; started by ``pipelines.spark``.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

GRACE_SECONDS = 10.0
POLL_SECONDS = 0.5


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:  # a zombie has exited already
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, parents first (from /proc; Linux only)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def end_tree(pid: int, *, grace: float = GRACE_SECONDS) -> None:
    """SIGTERM ``pid`` and its descendants (shutdown hooks clean Spark's scratch), then KILL."""
    tree = descendants(pid)
    for p in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in tree):
        time.sleep(0.1)
    for p in [*tree, *descendants(pid)]:
        if _alive(p):
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)


def _wait(driver: int, jvm: int) -> bool:
    """Block until the driver or the JVM ends; True when it was the driver."""
    try:
        fds = [os.pidfd_open(driver), os.pidfd_open(jvm)]
    except (AttributeError, OSError):
        fds = []
    if fds and os.getppid() == driver:  # the pidfd is of the right process, not a reused pid
        readable, _, _ = select.select(fds, [], [])
        return fds[0] in readable or os.getppid() != driver
    while True:
        if os.getppid() != driver:
            return True
        if not _alive(jvm):
            return False
        time.sleep(POLL_SECONDS)


def main(argv: list[str]) -> int:
    driver, jvm = int(argv[0]), int(argv[1])
    # Ctrl-C reaches the whole foreground group; the driver decides what happens to the JVM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _wait(driver, jvm) and _alive(jvm):
        end_tree(jvm)
    return 0


def start(jvm_pid: int) -> subprocess.Popen[bytes]:
    """Watch this process and ``jvm_pid``; same session, so a kill of the group ends it too."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.watchdog", str(os.getpid()), str(jvm_pid)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
