"""What every data call runs with: the platform key, tokens, lake snapshots, audit, limits.

One :class:`Exchange` per app. :meth:`Exchange.audited` wraps a service operation so that
every outcome (allowed, refused, failed) lands in the audit log exactly once, with the
grant, fields, row count and result hash the operation recorded on its way.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from catalog import repository, themes
from catalog.context import CHINA_TZ, Actor, CatalogContext
from catalog.domain import (
    MountKind,
    ResourceClass,
)
from catalog.identifiers import identifier_kind, ric_problem, uscc_problem
from catalog.keys import key_is_live
from catalog.models import Grant, Resource
from catalog.mounts import capability
from catalog.safeguards import effective_sensitivity, mount_target_problem
from catalog.store import Catalog
from exchange_api.access import RateLimiter, normalise_purpose
from exchange_api.audit import AuditLog, AuditRecord, AuditRef, CheckpointStore, result_hash
from exchange_api.configuration import ExchangeSettings
from exchange_api.downloads import DownloadRuns
from exchange_api.signing import PlatformKey
from exchange_api.signins import SignInGuard
from exchange_api.tokens import TokenService
from exchange_api.views import ItemView, ResourceView
from infra.errors import GovshareError, ValidationError
from infra.settings import Settings
from lake.delta import TableRef
from lake.errors import DataUnavailable, MountRefused
from lake.readers import LakeReader
from privacy.disclosure import DisclosureRules
from privacy.masking import MaskKind, NameMask

log = logging.getLogger("govshare.exchange_api")


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


def _serving_table(session: Session, resource: Resource, lake_root: str) -> TableRef:
    """The lake table a resource's mount names, refused unless it is the provider's own.

    The catalogue checks the same rules when a mount is made, changed or approved; they are
    applied again here so that a mount stored before them, or written around them, serves
    nothing (defence in depth).
    """
    mount = capability(resource, kind=MountKind.TABLE)
    if mount is None:
        raise DataUnavailable(f"信息资源 {resource.code} 尚未挂接数据 (no mounted table)")
    theme = resource.classification is ResourceClass.THEME
    refused = mount_target_problem(kind=mount.kind, target=mount.target, theme=theme) or (
        theme and not resource.provider.is_data_authority
    )
    if not refused:
        claimants = set(repository.table_claimants(session, target=mount.target))
        refused = bool(claimants - {resource.provider_id})
    table = TableRef(lake_root, "themes" if theme else "validated", mount.target)
    if not refused and "://" not in lake_root:
        layer = Path(lake_root, table.layer).resolve()
        refused = Path(table.uri).resolve().parent != layer
    if refused:
        log.warning("mount of resource %s refused at serving time", resource.code)
        raise MountRefused(
            f"信息资源 {resource.code} 的挂接不合规，暂停服务，请联系数据管理机构 "
            "(the resource's mount is not the provider's own table)"
        )
    return table


def resource_view(session: Session, resource: Resource, lake_root: str) -> ResourceView:
    table: TableRef | None = None
    problem: GovshareError | None = None
    try:
        table = _serving_table(session, resource, lake_root)
    except (DataUnavailable, MountRefused) as error:
        problem = error  # raised when the table is used, after the grant check
    keys = resource.key_items
    key_kind = identifier_kind(keys[0].name) if keys else None
    items = {}
    for item in resource.items:
        sensitivity, mask_name = effective_sensitivity(item.name, item.sensitivity, item.mask_kind)
        forced = sensitivity.is_personal and not item.sensitivity.is_personal
        if sensitivity.is_personal:
            kind = MaskKind(mask_name) if mask_name else MaskKind.GENERIC
        else:
            kind = MaskKind.NONE
        items[item.name] = ItemView(item.name, sensitivity, kind, forced)
    return ResourceView(
        code=resource.code,
        resource_id=resource.id,
        state=resource.state,
        share_type=resource.share_type,
        provider_code=resource.provider.code,
        serving_table=table,
        key=keys[0].name if keys else None,
        key_kind=key_kind if key_kind in ("uscc", "ric") else None,
        items=items,
        problem=problem,
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


@dataclass(frozen=True)
class ThemeRef:
    """A defined theme as serving needs it: which resource holds it and what keys it."""

    code: str
    name: str
    resource_code: str
    key_kind: str


@dataclass(frozen=True)
class CheckRef:
    """A defined 核验 subject: the resource it reads, its fields by role, what means yes."""

    check: str
    resource_code: str
    key_kind: str | None
    fields: dict[str, str]
    yes_values: tuple[str, ...]


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
            group_max=self.config.audit_group_max,
        )
        self.limiter = RateLimiter(clock)
        # Delta Sharing file downloads in progress: one audit entry per download, not per request.
        self.downloads = DownloadRuns()
        self.signins = SignInGuard(
            catalog,
            clock=clock,
            secret=self.key.derive_secret("signin-client"),
            per_client=self.config.signin_failures_per_client,
            per_key=self.config.signin_failures_per_key,
            window_minutes=self.config.signin_window_minutes,
        )
        self.disclosure = DisclosureRules(
            name_mask=NameMask(settings.name_mask),
            birth_date=self.config.birth_date_shown,
            age_band_width=self.config.age_band_width,
            age_band_cap=self.config.age_band_cap,
        )
        self._subject_key = self.key.derive_secret("audit-subject")
        self._views: dict[str, tuple[ResourceView, float]] = {}
        self._views_lock = threading.Lock()
        self._definitions: dict[tuple[str, str], tuple[Any, float]] = {}

    def today(self) -> date:
        """The day in China, for answers that depend on it (age bands)."""
        return self.clock().astimezone(CHINA_TZ).date()

    def _key_is_live(self, key_id: str, actor: Actor) -> bool:
        with self.catalog.unit() as ctx:
            return key_is_live(ctx.session, key_id=key_id, actor=actor)

    def subject_hash(self, values: Sequence[str]) -> str:
        """A keyed hash of looked-up identifiers: matches a later inquiry, reveals nothing."""
        return hmac.new(
            self._subject_key, "\n".join(values).encode("utf-8"), hashlib.sha256
        ).hexdigest()

    def key_quota_subject(self, call: DataCall, view: ResourceView) -> str:
        """Whose daily key quota a lookup uses: the department's, per resource and purpose.

        Keyed on the purpose rather than the grant row, so a re-issued grant for the same
        purpose does not start a fresh count.
        """
        department = call.actor.department_code or ""
        return self.subject_hash(["keys", department, view.code, normalise_purpose(call.purpose)])

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
        resource = repository.resource(ctx.session, code)
        view = resource_view(ctx.session, resource, self.settings.lake_path)
        with self._views_lock:
            self._views[code] = (view, now)
        return view

    def _definition(self, kind: str, name: str, load: Callable[[], Any]) -> Any:
        """A theme or 核验 definition, cached like resource views (an unknown one is not)."""
        now = time.monotonic()
        cached = self._definitions.get((kind, name))
        if cached is not None and now - cached[1] < self.config.catalogue_cache_seconds:
            return cached[0]
        found = load()
        with self._views_lock:
            self._definitions[(kind, name)] = (found, now)
        return found

    def theme(self, ctx: CatalogContext, code: str) -> ThemeRef:
        """The theme the catalogue defines under ``code`` (404 when none is)."""

        def load() -> ThemeRef:
            found = themes.get_theme(ctx.session, code)
            return ThemeRef(found.code, found.name, found.resource.code, found.key_kind)

        ref: ThemeRef = self._definition("theme", code, load)
        return ref

    def check(self, ctx: CatalogContext, check: str) -> CheckRef:
        """The 核验 subject the catalogue defines under ``check`` (404 when none is)."""

        def load() -> CheckRef:
            found = themes.get_verification(ctx.session, check)
            if found.theme is not None:
                kind: str | None = found.theme.key_kind
            else:
                keys = found.resource.key_items
                kind = identifier_kind(keys[0].name) if keys else None
            return CheckRef(
                found.check, found.resource.code, kind, dict(found.fields or {}),
                tuple(str(v) for v in found.yes_values or []),
            )  # fmt: skip

        ref: CheckRef = self._definition("check", check, load)
        return ref

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
