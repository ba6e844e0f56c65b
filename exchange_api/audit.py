"""审计日志: every data call appended to a hash-chained, signed log in the catalogue database.

X-Road keeps a signed message log so that afterwards nobody, operators included, can deny or
rewrite what was exchanged. Here each entry's ``entry_hash`` is the SHA-256 of its canonical
JSON (every column plus the previous entry's hash) and carries the platform's Ed25519
signature of that hash. :func:`verify_chain` recomputes everything and names the first entry
that no longer fits. Appends are serialised across processes by the ``audit_log.seq`` counter
row: an append takes it first, holds its lock until commit, and only then reads the head, so
two API workers never link two entries to the same predecessor (the chain cannot fork) and no
call fails for a lost race.

Group commit: committing one row per call costs a durable write (an fsync) per call, which
bounds throughput. Within a process, the calls that arrive while a transaction is being
written wait together, and the next committer writes all of them in one transaction: chained
in arrival order, each signed, one counter-row lock for the group. A call is answered only
once its group is committed; a group that fails fails every call in it and leaves no row of it.

A chain proves nothing about entries that were cut off its end: deleting the newest rows
leaves a shorter chain that still verifies. So the head is anchored outside the database:
every N appends, and on every verification, a signed checkpoint (sequence number and head
hash) is appended to a file under GOVSHARE_HOME (:class:`CheckpointStore`). Verification then
also requires every checkpointed entry to be present with the checkpointed hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from catalog import repository
from catalog.context import Actor, CatalogContext
from catalog.errors import NotAuthorized
from catalog.models import AuditEntry, Counter
from catalog.store import Catalog
from exchange_api import metrics
from exchange_api.exceptions import AuditUnavailable
from exchange_api.signing import PlatformKey

log = logging.getLogger("govshare.exchange_api.audit")

GENESIS = "0" * 64
# Columns covered by entry_hash, in the canonical document (order does not matter: sorted).
HASHED = (
    "seq", "at", "request_id", "department_code", "actor", "grant_id", "resource_code",
    "provider_code", "purpose", "endpoint", "status", "outcome", "reason", "fields",
    "row_count", "table_version", "epsilon", "result_hash", "subject_hash", "prev_hash",
    "key_id",
)  # fmt: skip
SEQ_COUNTER = "audit_log.seq"
OPTIONAL_HASHED = ("case_ref", "business_matter")


@dataclass
class AuditRecord:
    """What a data call hands to the log; the log adds sequence, time, chain and signature."""

    request_id: str
    actor: str
    endpoint: str
    department_code: str | None = None
    purpose: str = ""
    resource_code: str | None = None
    provider_code: str | None = None
    grant_id: int | None = None
    status: int = 200
    outcome: str = "allowed"
    reason: str = ""
    fields: list[str] = field(default_factory=list)
    row_count: int = 0
    table_version: int | None = None
    epsilon: str = ""
    result_hash: str = ""
    subject_hash: str = ""
    case_ref: str | None = None  # 核验: 办件编号
    business_matter: str | None = None  # 核验: 业务事项


@dataclass(frozen=True)
class AuditRef:
    """Evidence a caller can quote: the entry's place in the chain and its hash."""

    seq: int
    entry_hash: str
    request_id: str
    at: datetime


def result_hash(payload: Any) -> str:
    """SHA-256 of a result's canonical JSON, so the log proves what was returned."""
    return hashlib.sha256(_canonical_json(payload)).hexdigest()


def _canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode("utf-8")


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def entry_document(entry: AuditEntry) -> bytes:
    """The canonical bytes an entry's hash covers (identical on SQLite and PostgreSQL)."""
    values: dict[str, Any] = {name: getattr(entry, name) for name in HASHED}
    values["at"] = _timestamp(entry.at)
    values["fields"] = list(entry.fields or [])
    for name in OPTIONAL_HASHED:  # hashed only when set: older entries keep their hashes
        if getattr(entry, name):
            values[name] = getattr(entry, name)
    return _canonical_json(values)


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(entry_document(entry)).hexdigest()


@dataclass(eq=False)
class _Waiting:
    """One caller's record on its way into a group; filled in by whoever commits the group."""

    record: AuditRecord
    ref: AuditRef | None = None
    error: BaseException | None = None
    done: bool = False


class AuditLog:
    """Appends signed entries; one instance per app (it orders this process's appends).

    Leader/follower group commit, no background thread: a caller queues its record and takes
    the commit lock; whoever holds it writes every queued record (up to ``group_max``) in one
    transaction, so the records arriving during one commit form the next group. A caller whose
    record an earlier holder already committed returns at once. ``group_max=1`` is the former
    behaviour, one transaction per entry.
    """

    def __init__(
        self,
        catalog: Catalog,
        key: PlatformKey,
        *,
        checkpoints: CheckpointStore | None = None,
        checkpoint_every: int = 100,
        group_max: int = 256,
    ) -> None:
        if group_max < 1:
            raise ValueError("group_max must be at least 1")
        self.catalog = catalog
        self.key = key
        self.checkpoints = checkpoints
        self.checkpoint_every = checkpoint_every
        self.group_max = group_max
        # Held while a group is written: this worker's threads wait here, not on the database.
        self._commit_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self.groups = 0  # transactions attempted: entries / groups is the grouping achieved

    def waiting(self) -> int:
        """Records queued for the next group (what a group commit is about to write)."""
        with self._queue_lock:
            return len(self._queue)

    @property
    def committing(self) -> bool:
        """A group is being written now (its callers wait for its transaction)."""
        return self._commit_lock.locked()

    def append(self, record: AuditRecord) -> AuditRef:
        """Log one entry; return only once it is committed, raise when it was not."""
        mine = _Waiting(record)
        with self._queue_lock:
            self._queue.append(mine)
        while not mine.done:
            with self._commit_lock:
                if not mine.done:
                    with self._queue_lock:
                        group = self._queue[: self.group_max]
                        del self._queue[: self.group_max]
                    self._commit(group)
        if mine.error is not None:
            raise AuditUnavailable(
                "审计日志写入失败，本次调用未执行完毕，请稍后重试 (audit entry not written)"
            ) from mine.error
        assert mine.ref is not None
        return mine.ref

    def _commit(self, group: list[_Waiting]) -> None:
        """Write one group in one transaction; every member learns the outcome."""
        self.groups += 1
        try:
            with self.catalog.unit() as ctx:
                refs = self._append_group(ctx, [w.record for w in group])
        except BaseException as error:  # every caller of the group fails; nothing was written
            log.warning("audit group of %d entries not committed: %s", len(group), error)
            for waiting in group:  # none is left waiting for a record no longer queued
                waiting.error, waiting.done = error, True
            if not isinstance(error, Exception):
                raise  # an interrupt still stops the committing thread
            return
        # Counted before any caller is answered, so a scrape after an answer includes it.
        metrics.audit_committed((w.record.outcome, w.record.epsilon) for w in group)
        for waiting, ref in zip(group, refs, strict=True):
            waiting.ref, waiting.done = ref, True
        # After the commit: a checkpoint never names an entry that was rolled back.
        if self.checkpoints is not None:
            for ref in refs:
                if ref.seq % self.checkpoint_every == 0:
                    self.checkpoints.write(
                        self.key, seq=ref.seq, entry_hash=ref.entry_hash, at=ref.at
                    )

    def _append_group(self, ctx: CatalogContext, records: list[AuditRecord]) -> list[AuditRef]:
        session = ctx.session
        last = session.scalar(select(func.max(AuditEntry.seq)))
        # The transaction's first write: it takes the counter row's lock (PostgreSQL) or the
        # database write lock (SQLite) until commit, so the head read below is the committed
        # head and the times below are taken in chain order.
        count = len(records)
        seq = repository.next_number(session, name=SEQ_COUNTER, first=(last or 0) + 1, count=count)
        head = session.execute(
            select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        if head is not None and head.seq >= seq:
            # A counter behind the log (rows restored from a dump): catch up, never reuse.
            seq = head.seq + 1
            session.execute(
                update(Counter).where(Counter.name == SEQ_COUNTER).values(value=seq + count - 1)
            )
        previous = head.entry_hash if head else GENESIS
        entries = []
        for offset, record in enumerate(records):
            entry = AuditEntry(
                seq=seq + offset,
                at=ctx.now(),
                prev_hash=previous,
                key_id=self.key.key_id,
                **record.__dict__,
            )
            entry.entry_hash = entry_hash(entry)
            entry.signature = self.key.sign(entry.entry_hash.encode("ascii")).hex()
            previous = entry.entry_hash
            entries.append(entry)
        session.add_all(entries)
        session.flush()
        return [
            AuditRef(seq=e.seq, entry_hash=e.entry_hash, request_id=e.request_id, at=e.at)
            for e in entries
        ]


@dataclass(frozen=True)
class ChainReport:
    """Result of checking the whole log: how many entries, and the first broken one if any."""

    entries: int
    ok: bool
    first_broken_seq: int | None = None
    problem: str | None = None
    head_hash: str = GENESIS


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the chain once reached entry ``seq`` with hash ``entry_hash``."""

    seq: int
    entry_hash: str
    at: str
    key_id: str
    signature: str

    def document(self) -> bytes:
        return _canonical_json(
            {"seq": self.seq, "entry_hash": self.entry_hash, "at": self.at, "key_id": self.key_id}
        )


class CheckpointStore:
    """Append-only JSON lines of signed checkpoints, kept outside the catalogue database.

    Someone who can delete audit rows in the database cannot thereby delete the anchors; the
    signature means nobody without the platform key can write a false one. Lines are appended
    with ``O_APPEND`` (one ``write`` each), so API workers may write at once; readers skip a
    line torn by a crash.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, key: PlatformKey, *, seq: int, entry_hash: str, at: datetime) -> Checkpoint:
        unsigned = Checkpoint(seq, entry_hash, _timestamp(at), key.key_id, signature="")
        signed = Checkpoint(
            seq, entry_hash, unsigned.at, key.key_id, key.sign(unsigned.document()).hex()
        )
        line = json.dumps(signed.__dict__, sort_keys=True, separators=(",", ":")) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return signed

    def read(self) -> list[Checkpoint]:
        if not self.path.exists():
            return []
        found = []
        for line in self.path.read_text(encoding="ascii", errors="replace").splitlines():
            try:
                raw = json.loads(line)
                found.append(
                    Checkpoint(
                        seq=int(raw["seq"]), entry_hash=str(raw["entry_hash"]),
                        at=str(raw["at"]), key_id=str(raw["key_id"]),
                        signature=str(raw["signature"]),
                    )
                )  # fmt: skip
            except (ValueError, KeyError, TypeError):
                continue  # a line torn by a crash proves nothing either way
        return found


def verify_chain(
    session: Session, key: PlatformKey, checkpoints: CheckpointStore | None = None
) -> ChainReport:
    """Recompute every hash, link and signature in order; stop at the first failure.

    With ``checkpoints``, every checkpointed entry must also be present with its checkpointed
    hash: a chain cut short (newest rows deleted, or all of them) no longer verifies.
    """
    anchors: dict[int, Checkpoint] = {}
    for checkpoint in checkpoints.read() if checkpoints is not None else []:
        if checkpoint.key_id != key.key_id or not _checkpoint_signature_ok(key, checkpoint):
            return ChainReport(
                entries=0, ok=False, first_broken_seq=checkpoint.seq,
                problem=f"检查点签名无效，第 {checkpoint.seq} 条的检查点不可信 "
                "(checkpoint signature invalid)",
            )  # fmt: skip
        anchors[checkpoint.seq] = checkpoint
    previous, expected, count = GENESIS, 1, 0
    rows: Iterable[AuditEntry] = session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000)
    )
    for entry in rows:
        problem = None
        if entry.seq != expected:
            problem = f"序号不连续，缺少第 {expected} 条 (sequence gap: entry missing)"
        elif entry.prev_hash != previous:
            problem = "前序哈希不符，条目被删除或替换 (previous-hash link broken)"
        elif entry_hash(entry) != entry.entry_hash:
            problem = "条目内容被修改 (entry content does not match its hash)"
        elif entry.key_id != key.key_id:
            problem = "签名密钥未知 (signed by an unknown key)"
        elif not _signature_ok(key, entry):
            problem = "签名无效 (signature invalid)"
        elif entry.seq in anchors and anchors[entry.seq].entry_hash != entry.entry_hash:
            problem = "与签名检查点不符，条目被替换 (entry differs from its signed checkpoint)"
        if problem is not None:
            return ChainReport(
                entries=count, ok=False, first_broken_seq=entry.seq, problem=problem,
                head_hash=previous,
            )  # fmt: skip
        previous, expected, count = entry.entry_hash, expected + 1, count + 1
    beyond = [seq for seq in anchors if seq >= expected]
    if beyond:
        return ChainReport(
            entries=count, ok=False, first_broken_seq=expected,
            problem=f"日志末尾的条目被删除：签名检查点记录已有第 {max(beyond)} 条，"
            + (f"现只到第 {expected - 1} 条" if count else "现日志为空")
            + " (entries at the end of the log were deleted)",
            head_hash=previous,
        )  # fmt: skip
    return ChainReport(entries=count, ok=True, head_hash=previous)


def verify_and_anchor(
    session: Session, key: PlatformKey, checkpoints: CheckpointStore, *, now: datetime
) -> ChainReport:
    """Verify, and when the chain is intact anchor its head, so later cuts are found."""
    report = verify_chain(session, key, checkpoints)
    if report.ok and report.entries:
        checkpoints.write(key, seq=report.entries, entry_hash=report.head_hash, at=now)
    return report


def _checkpoint_signature_ok(key: PlatformKey, checkpoint: Checkpoint) -> bool:
    try:
        signature = bytes.fromhex(checkpoint.signature)
    except ValueError:
        return False
    return key.verify(signature, checkpoint.document())


def _signature_ok(key: PlatformKey, entry: AuditEntry) -> bool:
    try:
        signature = bytes.fromhex(entry.signature)
    except ValueError:
        return False
    return key.verify(signature, entry.entry_hash.encode("ascii"))


@dataclass(frozen=True)
class UsageRow:
    """How one consumer used one resource through one endpoint (提供方使用情况)."""

    resource_code: str
    department_code: str
    endpoint: str
    outcome: str
    requests: int
    rows: int
    last_at: datetime


def usage(
    session: Session, *, provider_code: str | None, since: datetime | None = None
) -> list[UsageRow]:
    """Use of a provider's resources (all providers when None), grouped by consumer and call."""
    query = select(
        AuditEntry.resource_code,
        AuditEntry.department_code,
        AuditEntry.endpoint,
        AuditEntry.outcome,
        func.count(),
        func.coalesce(func.sum(AuditEntry.row_count), 0),
        func.max(AuditEntry.at),
    ).where(AuditEntry.resource_code.is_not(None))
    if provider_code is not None:
        query = query.where(AuditEntry.provider_code == provider_code)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    keys = (AuditEntry.resource_code, AuditEntry.department_code, AuditEntry.endpoint)
    query = query.group_by(*keys, AuditEntry.outcome).order_by(*keys)
    rows = []
    for resource, department, endpoint, outcome, count, total, last in session.execute(query):
        last_at = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
        if last_at.tzinfo is None:
            last_at = last_at.replace(tzinfo=UTC)
        rows.append(
            UsageRow(
                resource_code=resource,
                department_code=department or "",
                endpoint=endpoint,
                outcome=outcome,
                requests=int(count),
                rows=int(total),
                last_at=last_at,
            )
        )
    return rows


def usage_provider(actor: Actor, department: str | None) -> str | None:
    """Whose usage ``actor`` may read: a department its own resources' only, a steward any
    provider's (its own department's when none is named). Raises NotAuthorized otherwise."""
    provider = department or actor.department_code
    if not actor.is_steward and provider != actor.department_code:
        raise NotAuthorized("只能查看本部门资源的使用情况 (only your own resources)")
    return provider


def verify_audit(actor: Actor) -> None:
    """Checking the whole chain is the data authority's (it reads every department's calls)."""
    if not actor.is_steward:
        raise NotAuthorized("只有数据管理机构审核员可以校验审计日志 (steward role required)")


def verify_now(
    session: Session, key: PlatformKey, checkpoints: CheckpointStore | None, *, now: datetime
) -> ChainReport:
    """Verify the chain, anchoring its head when the deployment keeps checkpoints."""
    if checkpoints is None:
        return verify_chain(session, key)
    return verify_and_anchor(session, key, checkpoints, now=now)


@dataclass(frozen=True)
class PurposeUsage:
    """How often one consumer called a provider's resources for one declared purpose."""

    department_code: str
    purpose: str
    outcome: str
    requests: int


def usage_by_purpose(session: Session, *, provider_code: str | None) -> list[PurposeUsage]:
    """Calls on a provider's resources by consumer, declared purpose and outcome (用数)."""
    query = select(
        AuditEntry.department_code, AuditEntry.purpose, AuditEntry.outcome, func.count()
    ).where(AuditEntry.resource_code.is_not(None))
    if provider_code is not None:
        query = query.where(AuditEntry.provider_code == provider_code)
    keys = (AuditEntry.department_code, AuditEntry.purpose, AuditEntry.outcome)
    query = query.group_by(*keys).order_by(*keys)
    return [
        PurposeUsage(department_code=d or "", purpose=p or "", outcome=o, requests=int(n))
        for d, p, o, n in session.execute(query)
    ]
