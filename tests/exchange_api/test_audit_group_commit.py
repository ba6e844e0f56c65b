"""Group commit of the audit log: many callers, one transaction, and no call without its entry.

Real SQLite and PostgreSQL catalogues. To put chosen records in one group, the database is
held (SQLite's write lock, PostgreSQL's lock on the audit counter row) by another connection
while the callers queue, exactly as a slow commit holds them in production.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select, text

from catalog.models import AuditEntry
from catalog.store import Catalog
from exchange_api.audit import SEQ_COUNTER, AuditLog, AuditRecord, AuditRef, verify_chain
from exchange_api.exceptions import AuditUnavailable
from exchange_api.signing import PlatformKey

pytestmark = pytest.mark.concurrency


@pytest.fixture
def audit(catalog: Catalog, tmp_path) -> AuditLog:  # type: ignore[no-untyped-def]
    return AuditLog(catalog, PlatformKey.load_or_create(tmp_path / "platform.pem"))


def _record(n: int, actor: str | None = "dept:rs") -> AuditRecord:
    return AuditRecord(request_id=f"req{n:04d}", actor=actor, endpoint="/bench")  # type: ignore[arg-type]


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@contextmanager
def _database_held(catalog: Catalog) -> Iterator[None]:
    """Another connection holds what an audit transaction needs first, until the block ends."""
    url = catalog.engine.url
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the database write lock
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with catalog.engine.connect() as conn:
        conn.execute(
            text("SELECT value FROM counters WHERE name = :n FOR UPDATE"), {"n": SEQ_COUNTER}
        )
        try:
            yield
        finally:
            conn.rollback()


def _in_threads(
    audit: AuditLog, records: list[AuditRecord]
) -> tuple[list[threading.Thread], dict[str, AuditRef | BaseException]]:
    results: dict[str, AuditRef | BaseException] = {}

    def call(record: AuditRecord) -> None:
        try:
            results[record.request_id] = audit.append(record)
        except BaseException as error:  # the test inspects it
            results[record.request_id] = error

    threads = [threading.Thread(target=call, args=(r,)) for r in records]
    for t in threads:
        t.start()
    return threads, results


def _entries(catalog: Catalog) -> list[AuditEntry]:
    with catalog.unit() as ctx:
        return list(ctx.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all())


def test_concurrent_appends_form_one_verifying_chain_each_caller_its_own_entry(
    audit: AuditLog, catalog: Catalog
) -> None:
    n = 60
    start = threading.Barrier(n)
    results: dict[int, AuditRef] = {}

    def call(i: int) -> None:
        start.wait()
        results[i] = audit.append(_record(i))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(ref.seq for ref in results.values()) == list(range(1, n + 1))
    entries = {e.seq: e for e in _entries(catalog)}
    assert len(entries) == n
    for i, ref in results.items():  # each caller got the evidence of its own record
        assert ref.request_id == f"req{i:04d}"
        assert entries[ref.seq].request_id == ref.request_id
        assert entries[ref.seq].entry_hash == ref.entry_hash
    with catalog.unit() as ctx:
        report = verify_chain(ctx.session, audit.key)
    assert report.ok and report.entries == n
    assert audit.groups < n  # callers arriving during a commit were written together


def test_records_queued_during_a_commit_are_written_in_one_group(
    audit: AuditLog, catalog: Catalog
) -> None:
    audit.append(_record(0))  # the counter row exists from here on
    with _database_held(catalog):
        first, _ = _in_threads(audit, [_record(1)])
        _wait_for(lambda: audit.committing and audit.waiting() == 0, "the first group")
        rest, results = _in_threads(audit, [_record(i) for i in range(2, 22)])
        _wait_for(lambda: audit.waiting() == 20, "twenty queued records")
        groups_before = audit.groups
    for t in [*first, *rest]:
        t.join()
    assert audit.groups == groups_before + 1  # the twenty went in one transaction
    refs = [results[f"req{i:04d}"] for i in range(2, 22)]
    assert all(isinstance(r, AuditRef) for r in refs)
    assert sorted(r.seq for r in refs) == list(range(3, 23))  # type: ignore[union-attr]
    with catalog.unit() as ctx:
        report = verify_chain(ctx.session, audit.key)
    assert report.ok and report.entries == 22


def test_a_failed_group_fails_every_caller_and_leaves_none_of_its_entries(
    audit: AuditLog, catalog: Catalog
) -> None:
    audit.append(_record(0))
    with _database_held(catalog):
        first, first_results = _in_threads(audit, [_record(1)])
        _wait_for(lambda: audit.committing and audit.waiting() == 0, "the first group")
        # One record of the next group breaks a NOT NULL constraint of audit_log.
        group = [_record(i) for i in range(2, 12)] + [_record(12, actor=None)]
        rest, results = _in_threads(audit, group)
        _wait_for(lambda: audit.waiting() == len(group), "the next group queued")
    for t in [*first, *rest]:
        t.join()

    assert isinstance(first_results["req0001"], AuditRef)  # its own group: committed
    assert len(results) == len(group)
    for outcome in results.values():  # none answered as if audited
        assert isinstance(outcome, AuditUnavailable), outcome
        assert outcome.status_code == 503
    entries = _entries(catalog)
    assert [e.request_id for e in entries] == ["req0000", "req0001"]  # nothing half-written
    # The sequence numbers the failed group took were rolled back with it: no gap follows.
    assert audit.append(_record(99)).seq == 3
    with catalog.unit() as ctx:
        report = verify_chain(ctx.session, audit.key)
    assert report.ok and report.entries == 3


def test_group_max_one_commits_every_entry_alone(catalog: Catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    audit = AuditLog(catalog, PlatformKey.load_or_create(tmp_path / "k.pem"), group_max=1)
    threads, results = _in_threads(audit, [_record(i) for i in range(10)])
    for t in threads:
        t.join()
    assert audit.groups == 10
    assert sorted(r.seq for r in results.values()) == list(range(1, 11))  # type: ignore[union-attr]
