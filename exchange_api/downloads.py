"""Which signed file URLs a client is downloading now, so one download is one audit entry.

A Delta Sharing connector fetches one file in several HTTP requests: the Python connector's
fsspec asks whether the URL exists (a GET it drops after the headers), its size (HEAD), the
Parquet footer and then the column chunks (range GETs), twice over, about eleven requests a
file. Logging each as a download filled the chain with entries that add nothing (same
department, grant, file and version) and made every request wait for an audit commit.

A download here is the run of requests on one signed URL from one client address with no
pause longer than :data:`IDLE_SECONDS`: its first request is audited, the rest are not. Each
request still checks the signature, the expiry and the grant (a revoked grant ends the run at
once), and every refusal is still audited. Each query signs URLs of its own
(``exchange_api.sharing.signed_url``), so each read of a table is a new download of each
file; a URL replayed after a pause, or from another address, is a new download too. The
register is per process, so with several workers a download may be logged more than once,
never less.
"""

from __future__ import annotations

import threading

IDLE_SECONDS = 60.0
# Bounded: past this, the oldest runs are forgotten (their next request is audited again).
MAX_RUNS = 10_000


class DownloadRuns:
    """Runs of requests on signed URLs, keyed by (signature, client address)."""

    def __init__(self, *, idle_seconds: float = IDLE_SECONDS, max_runs: int = MAX_RUNS) -> None:
        self.idle_seconds = idle_seconds
        self.max_runs = max_runs
        self._last: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def continues(self, signature: str, client: str, now: float) -> bool:
        """Whether this request belongs to a download already audited (and extends it)."""
        key = (signature, client)
        with self._lock:
            last = self._last.get(key)
            if last is None or now - last > self.idle_seconds or now < last:
                return False
            self._last[key] = now
            return True

    def started(self, signature: str, client: str, now: float) -> None:
        """Note a download whose first request was audited (call after the entry committed)."""
        with self._lock:
            if len(self._last) >= self.max_runs:
                self._forget(now)
            self._last[(signature, client)] = now

    def _forget(self, now: float) -> None:
        idle = [k for k, last in self._last.items() if now - last > self.idle_seconds]
        for key in idle:
            del self._last[key]
        if len(self._last) >= self.max_runs:  # all busy: drop the oldest half
            oldest = sorted(self._last, key=self._last.__getitem__)[: len(self._last) // 2]
            for key in oldest:
                del self._last[key]
