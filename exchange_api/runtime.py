"""What every data call runs with: the platform key, tokens, lake snapshots, audit, limits.

One :class:`Exchange` per app. :meth:`Exchange.audited` wraps a service operation so that
every outcome (allowed, refused, failed) lands in the audit log exactly once, with the
grant, fields, row count and result hash the operation recorded on its way.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog import repository
from catalog.context import Actor, CatalogContext
from catalog.domain import FieldAccess, ResourceClass, ResourceState, Sensitivity, ShareType
from catalog.identifiers import identifier_kind, ric_problem, uscc_problem
from catalog.keys import key_is_live
from catalog.models import Grant, Resource
from catalog.services import capability
from catalog.store import Catalog
from exchange_api.access import RateLimiter
from exchange_api.audit import AuditLog, AuditRecord, AuditRef, CheckpointStore, result_hash
from exchange_api.configuration import ExchangeSettings
from exchange_api.exceptions import DataUnavailable
from exchange_api.lake import LakeReader
from exchange_api.signing import PlatformKey
from exchange_api.tokens import TokenService
from infra.errors import GovshareError, ValidationError
from infra.settings import Settings
from pipelines.lake.delta import TableRef
from privacy.masking import MaskKind

# Who a refused call is logged as when no credential could be read.
ANONYMOUS = "anonymous"
# The audit log's purpose column; a longer declared purpose is refused (deps.data_call).
PURPOSE_MAX = 200


@dataclass
class DataCall:
    """Who calls, for what declared purpose, through which endpoint.

    ``audited`` turns true once :meth:`Exchange.audited` owns the call's log entry, so the
    route wrapper that logs early refusals (``deps.AuditedRoute``) does not log it twice.
    """

    actor: Actor
    purpose: str
    endpoint: str
    request_id: str
    audited: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class ItemView:
    name: str
    sensitivity: Sensitivity
    mask_kind: MaskKind


@dataclass(frozen=True)
class ResourceView:
    """What data serving needs to know of a catalogue resource, detached from the session."""

    code: str
    resource_id: int
    state: ResourceState
    share_type: ShareType
    provider_code: str
    table: TableRef
    key: str | None
    key_kind: str | None
    items: dict[str, ItemView]

    @property
    def personal_rows(self) -> bool:
        """Rows describe people (keyed by ID number): every aggregate over them is noised."""
        return self.key_kind == "ric"

    def mask_kind(self, name: str, access: str) -> MaskKind | None:
        """How a granted field is shown: None when raw, else its item's convention."""
        if access == FieldAccess.RAW:
            return None
        item = self.items.get(name)
        return item.mask_kind if item is not None else MaskKind.GENERIC


def resource_view(resource: Resource, lake_root: str) -> ResourceView:
    mount = capability(resource)
    if mount is None:
        raise DataUnavailable(f"信息资源 {resource.code} 尚未挂接数据 (no mounted table)")
    layer = "themes" if resource.classification is ResourceClass.THEME else "validated"
    keys = resource.key_items
    key_kind = identifier_kind(keys[0].name) if keys else None
    items = {}
    for item in resource.items:
        if item.sensitivity.is_personal:
            kind = MaskKind(item.mask_kind) if item.mask_kind else MaskKind.GENERIC
        else:
            kind = MaskKind.NONE
        items[item.name] = ItemView(item.name, item.sensitivity, kind)
    return ResourceView(
        code=resource.code,
        resource_id=resource.id,
        state=resource.state,
        share_type=resource.share_type,
        provider_code=resource.provider.code,
        table=TableRef(lake_root, layer, mount.target),
        key=keys[0].name if keys else None,
        key_kind=key_kind if key_kind in ("uscc", "ric") else None,
        items=items,
    )


def normalise_key(kind: str | None, value: str) -> str:
    value = value.strip()
    return value.upper() if kind in ("ric", "uscc") else value


def key_problems(kind: str | None, keys: Sequence[str], *, field: str, location: str) -> None:
    """422 naming each malformed identifier by position and the rule it breaks, never its value."""
    check = {"uscc": uscc_problem, "ric": ric_problem}.get(kind or "")
    if check is None:
        return
    details = []
    for n, key in enumerate(keys):
        problem = check(key)
        if problem:
            name = field if len(keys) == 1 and field != "keys" else f"{field}.{n}"
            details.append({"field": name, "reason": problem, "location": location})
    if details:
        raise ValidationError(
            f"请求校验失败 (validation failed): {details[0]['field']}: {details[0]['reason']}",
            details=details,
        )


@dataclass
class Recorder:
    """Collects what an operation did, for its audit entry."""

    call: DataCall
    record: AuditRecord
    ref: AuditRef | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def uses(self, view: ResourceView, grant: Grant | None = None) -> None:
        self.record.resource_code = view.code
        self.record.provider_code = view.provider_code
        if grant is not None:
            self.record.grant_id = grant.id


class Exchange:
    """The serving side of one app."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        *,
        clock: Callable[[], datetime],
        config: ExchangeSettings | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.clock = clock
        self.config = config or ExchangeSettings()
        self.key = PlatformKey.load_or_create(self.config.key_path(settings))
        self.tokens = TokenService(
            self.key,
            ttl_seconds=self.config.token_ttl_seconds,
            clock=clock,
            key_is_live=self._key_is_live,
        )
        self.lake = LakeReader(refresh_seconds=self.config.snapshot_refresh_seconds)
        self.audit = AuditLog(
            catalog,
            self.key,
            checkpoints=CheckpointStore(self.config.checkpoint_path(settings)),
            checkpoint_every=self.config.audit_checkpoint_every,
        )
        self.limiter = RateLimiter(clock)
        self._subject_key = self.key.derive_secret("audit-subject")
        self._views: dict[str, tuple[ResourceView, float]] = {}
        self._views_lock = threading.Lock()

    def _key_is_live(self, key_id: str, actor: Actor) -> bool:
        with self.catalog.unit() as ctx:
            return key_is_live(ctx.session, key_id=key_id, actor=actor)

    def subject_hash(self, values: Sequence[str]) -> str:
        """A keyed hash of looked-up identifiers: matches a later inquiry, reveals nothing."""
        return hmac.new(
            self._subject_key, "\n".join(values).encode("utf-8"), hashlib.sha256
        ).hexdigest()

    def view(self, ctx: CatalogContext, code: str) -> ResourceView:
        """A resource's serving metadata, cached for a few seconds.

        Loading a resource with its items, mounts and provider is most of a lookup's database
        time; catalogue metadata changes rarely, so it may lag by ``catalogue_cache_seconds``.
        Grants are never cached: a revoked grant stops the very next call.
        """
        now = time.monotonic()
        cached = self._views.get(code)
        if cached is not None and now - cached[1] < self.config.catalogue_cache_seconds:
            return cached[0]
        view = resource_view(repository.resource(ctx.session, code), self.settings.lake_path)
        with self._views_lock:
            self._views[code] = (view, now)
        return view

    @contextmanager
    def audited(self, call: DataCall) -> Iterator[Recorder]:
        """Run an operation and log it once, whatever its outcome."""
        call.audited = True
        recorder = Recorder(
            call=call,
            record=AuditRecord(
                request_id=call.request_id,
                actor=call.actor.name,
                endpoint=call.endpoint,
                department_code=call.actor.department_code,
                purpose=call.purpose,
            ),
        )
        try:
            yield recorder
        except GovshareError as error:
            if recorder.ref is None:
                recorder.record.status = error.status_code
                recorder.record.outcome = "denied" if error.status_code < 500 else "error"
                recorder.record.reason = error.error_code
                self.audit.append(recorder.record)
            raise
        except Exception:
            if recorder.ref is None:
                recorder.record.status = 500
                recorder.record.outcome = "error"
                recorder.record.reason = "INTERNAL_ERROR"
                self.audit.append(recorder.record)
            raise
        if recorder.ref is None and not recorder.extra.get("deferred"):
            self.audit.append(recorder.record)

    def commit(
        self,
        recorder: Recorder,
        *,
        fields: Sequence[str],
        rows: int,
        result: Any,
        subjects: Sequence[str] = (),
        table_version: int | None = None,
        epsilon: float | None = None,
    ) -> AuditRef:
        """Log a successful operation now (its evidence reference goes into the response)."""
        record = recorder.record
        record.fields = list(fields)
        record.row_count = rows
        record.result_hash = result_hash(result)
        record.subject_hash = self.subject_hash(subjects) if subjects else ""
        record.table_version = table_version
        record.epsilon = f"{epsilon:g}" if epsilon else ""
        recorder.ref = self.audit.append(record)
        return recorder.ref

    def log_refusal(
        self,
        *,
        actor: Actor | None,
        endpoint: str,
        purpose: str,
        status: int,
        error_code: str,
        request_id: str | None = None,
    ) -> AuditRef:
        """Log a call refused before any service ran (bad token, no purpose, malformed).

        Only what the caller sent about itself is kept: who (when known), the route template,
        the declared purpose and the refusal code; never a looked-up key or a body value.
        """
        record = AuditRecord(
            request_id=request_id or uuid.uuid4().hex,
            actor=actor.name if actor is not None else ANONYMOUS,
            endpoint=endpoint,
            department_code=actor.department_code if actor is not None else None,
            purpose=purpose[:PURPOSE_MAX],
            status=status,
            outcome="denied" if status < 500 else "error",
            reason=error_code[:40],
        )
        return self.audit.append(record)
