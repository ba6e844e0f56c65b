"""审计日志: every data call appended to a hash-chained, signed log in the catalogue database.

X-Road keeps a signed message log so that afterwards nobody, operators included, can deny or
rewrite what was exchanged. Here each entry's ``entry_hash`` is the SHA-256 of its canonical
JSON (every column plus the previous entry's hash) and carries the platform's Ed25519
signature of that hash. :func:`verify_chain` recomputes everything and names the first entry
that no longer fits. Appends are serialised (a process lock, and the unique ``seq`` column
across processes: a lost race is retried on the new head).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.models import AuditEntry
from catalog.store import Catalog
from exchange_api.signing import PlatformKey

GENESIS = "0" * 64
# Columns covered by entry_hash, in the canonical document (order does not matter: sorted).
HASHED = (
    "seq", "at", "request_id", "department_code", "actor", "grant_id", "resource_code",
    "provider_code", "purpose", "endpoint", "status", "outcome", "reason", "fields",
    "row_count", "table_version", "epsilon", "result_hash", "subject_hash", "prev_hash",
    "key_id",
)  # fmt: skip
OPTIONAL_HASHED = ("case_ref", "business_matter")
_APPEND_RETRIES = 5


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


class AuditLog:
    """Appends signed entries; one instance per app (its lock orders this process's appends)."""

    def __init__(self, catalog: Catalog, key: PlatformKey) -> None:
        self.catalog = catalog
        self.key = key
        self._lock = threading.Lock()

    def append(self, record: AuditRecord) -> AuditRef:
        with self._lock:
            for attempt in range(_APPEND_RETRIES):
                try:
                    with self.catalog.unit() as ctx:
                        return self._append(ctx.session, record, ctx.now())
                except IntegrityError:
                    # Another process took this seq: read the new head and try again.
                    if attempt == _APPEND_RETRIES - 1:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _append(self, session: Session, record: AuditRecord, now: datetime) -> AuditRef:
        head = session.execute(
            select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        entry = AuditEntry(
            seq=head.seq + 1 if head else 1,
            at=now,
            prev_hash=head.entry_hash if head else GENESIS,
            key_id=self.key.key_id,
            **record.__dict__,
        )
        entry.entry_hash = entry_hash(entry)
        entry.signature = self.key.sign(entry.entry_hash.encode("ascii")).hex()
        session.add(entry)
        session.flush()
        return AuditRef(
            seq=entry.seq, entry_hash=entry.entry_hash, request_id=entry.request_id, at=now
        )


@dataclass(frozen=True)
class ChainReport:
    """Result of checking the whole log: how many entries, and the first broken one if any."""

    entries: int
    ok: bool
    first_broken_seq: int | None = None
    problem: str | None = None
    head_hash: str = GENESIS


def verify_chain(session: Session, key: PlatformKey) -> ChainReport:
    """Recompute every hash, link and signature in order; stop at the first failure."""
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
        if problem is not None:
            return ChainReport(
                entries=count, ok=False, first_broken_seq=entry.seq, problem=problem,
                head_hash=previous,
            )  # fmt: skip
        previous, expected, count = entry.entry_hash, expected + 1, count + 1
    return ChainReport(entries=count, ok=True, head_hash=previous)


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
