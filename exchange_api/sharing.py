"""Delta Sharing (open protocol) served from grants: a department's share is its live grants.

A department's share is named after its code and holds one table per live grant (not revoked,
not expired, resource published and not 不予共享): the validated or theme table the resource is
mounted on, reduced to the granted fields and masked exactly as extracts and profiles mask
(``ResourceView.served_fields`` → ``privacy.disclosure.plan_fields`` →
``privacy.columnar.served_batch``). The masked Parquet files are written once per (grant, table
version, recipe) under ``GOVSHARE_HOME/sharing`` with per-file statistics (``lake.masked``; by
``jobs.sharing`` after each commit, or here on first use), so a query only ever hands out URLs
of masked files; the URLs are signed by govshare (HMAC over path and expiry) and re-check the
grant when a file is fetched, so a revoked grant ends downloads too.

The protocol's purpose-less calls are audited under the grant's own purpose (the table *is*
the grant); listing calls under :data:`LISTING_PURPOSE`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
from deltalake import DeltaTable

from catalog import repository
from catalog.context import Actor, CatalogContext
from catalog.domain import ShareType
from exchange_api.access import SERVED_STATES
from exchange_api.exceptions import FileUrlRefused, SharingBadParameter, SharingNotFound
from exchange_api.runtime import DataCall, Exchange, resource_view
from exchange_api.sharing_hints import file_filter
from exchange_api.views import ResourceView
from lake import masked
from lake.masked import MaskedFile, MaskedVersion, Recipe, changes_file, masked_version
from privacy.disclosure import FieldPlan, Treatment, plan_fields

LISTING_PURPOSE = "Delta Sharing 共享目录浏览 (listing shares)"
FILE_TTL_SECONDS = 15 * 60
_NAMESPACE = uuid.UUID("6f1c1f9e-2f0b-4d55-9a55-5a1d3c0f6b21")
_NOT_FOUND = "共享、库或表不存在，或本部门无有效授权 (share, schema or table not found)"


@dataclass(frozen=True)
class SharedTable:
    """One granted table of a department's share."""

    share: str
    schema: str
    name: str
    grant_id: int
    purpose: str
    view: ResourceView
    access: dict[str, str]  # granted field -> FieldAccess value

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"grant:{self.grant_id}"))

    def out(self) -> dict[str, str]:
        return {
            "name": self.name,
            "schema": self.schema,
            "share": self.share,
            "shareId": share_id(self.share),
            "id": self.id,
        }


def share_id(share: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"share:{share}"))


def sharing_root(ex: Exchange) -> Path:
    return masked.sharing_root(ex.settings.home)


# ---- shares from grants -------------------------------------------------------------------


def live_tables(ex: Exchange, ctx: CatalogContext, actor: Actor) -> list[SharedTable]:
    """The tables the caller's department may read now: one per live, servable grant."""
    if not actor.department_code:
        return []
    return department_tables(ctx, actor.department_code, view_of=ex.view)


def department_tables(
    ctx: CatalogContext, department_code: str,
    view_of: Callable[[CatalogContext, str], ResourceView],
) -> list[SharedTable]:  # fmt: skip
    """A department's share as it stands: one table per live grant on a servable resource."""
    department = repository.department(ctx.session, department_code)
    tables = []
    for grant in repository.grants(ctx.session, department_id=department.id, active_at=ctx.now()):
        view = view_of(ctx, grant.resource.code)
        if view.state not in SERVED_STATES or view.share_type is ShareType.NOT_SHARED:
            continue
        if view.serving_table is None:
            continue  # nothing mounted (or a refused mount): no table to list
        access = {n: str(grant.fields[n]) for n in grant.fields if n in view.items}
        tables.append(
            SharedTable(
                share=department_code,
                schema=view.serving_table.layer,
                name=f"{view.serving_table.name}_g{grant.id}",
                grant_id=grant.id,
                purpose=grant.purpose,
                view=view,
                access=access,
            )
        )
    return tables


def share_table_names(ctx: CatalogContext, department_code: str, lake_root: str) -> list[str]:
    """``share.schema.table`` of each table in a department's share, for the profile's user
    (the catalogue alone is read: no audit, no data)."""

    def view_of(c: CatalogContext, code: str) -> ResourceView:
        return resource_view(c.session, repository.resource(c.session, code), lake_root)

    tables = department_tables(ctx, department_code, view_of)
    return [f"{t.share}.{t.schema}.{t.name}" for t in tables]


def _check_share(actor: Actor, share: str) -> None:
    if share != actor.department_code:
        raise SharingNotFound(_NOT_FOUND)


def list_shares(ex: Exchange, call: DataCall) -> dict[str, Any]:
    with ex.audited(call):
        code = call.actor.department_code
        items = [{"name": code, "id": share_id(code)}] if code else []
        return {"items": items}


def get_share(ex: Exchange, call: DataCall, *, share: str) -> dict[str, Any]:
    with ex.audited(call):
        _check_share(call.actor, share)
        return {"share": {"name": share, "id": share_id(share)}}


def list_schemas(ex: Exchange, call: DataCall, *, share: str) -> dict[str, Any]:
    with ex.audited(call):
        _check_share(call.actor, share)
        with ex.catalog.unit() as ctx:
            names = sorted({t.schema for t in live_tables(ex, ctx, call.actor)})
        return {"items": [{"name": n, "share": share} for n in names]}


def list_tables(
    ex: Exchange, call: DataCall, *, share: str, schema: str | None = None
) -> dict[str, Any]:
    """Tables of one schema, or of the whole share (``all-tables``) when ``schema`` is None."""
    with ex.audited(call):
        _check_share(call.actor, share)
        with ex.catalog.unit() as ctx:
            tables = live_tables(ex, ctx, call.actor)
        if schema is not None:
            if schema not in {t.schema for t in tables}:
                raise SharingNotFound(_NOT_FOUND)
            tables = [t for t in tables if t.schema == schema]
        return {"items": [t.out() for t in tables]}


def _find(ex: Exchange, call: DataCall, share: str, schema: str, name: str) -> SharedTable:
    _check_share(call.actor, share)
    with ex.catalog.unit() as ctx:
        for table in live_tables(ex, ctx, call.actor):
            if table.schema == schema and table.name == name:
                return table
    raise SharingNotFound(_NOT_FOUND)


def _uses(call: DataCall, recorder: Any, table: SharedTable) -> None:
    """The audit entry of a table call names the grant, its purpose, resource and provider."""
    recorder.record.purpose = table.purpose
    recorder.record.resource_code = table.view.code
    recorder.record.provider_code = table.view.provider_code
    recorder.record.grant_id = table.grant_id
    call.purpose = table.purpose


# ---- versions and masked files ------------------------------------------------------------


def _source(ex: Exchange, table: SharedTable, version: int | None) -> tuple[int, ds.Dataset]:
    """The table at ``version`` (the current one by default) as a dataset of the lake files."""
    snap = ex.lake.snapshot(table.view.table)
    if version is None or version == snap.version:
        return snap.version, snap.dataset()
    if version < 0 or version > snap.version:
        raise SharingBadParameter(
            f"表版本不存在：当前版本为 {snap.version} (no such version; latest is {snap.version})"
        )
    try:
        old = DeltaTable(table.view.table.uri, version=version)
    except Exception as error:  # a vacuumed or unreadable version: the caller's bad luck
        raise SharingBadParameter(f"表版本 {version} 已不可读 (version not readable)") from error
    return version, old.to_pyarrow_dataset()


def _moment(timestamp: str, field: str = "timestamp") -> datetime:
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        raise SharingBadParameter(
            f"{field} 须为带时区的 ISO 8601 时间，如 2026-12-05T08:00:00Z (bad {field})"
        ) from None
    if moment.tzinfo is None:
        raise SharingBadParameter(f"{field} 须带时区，如 ...Z ({field} needs a time zone)")
    return moment


def version_at(ex: Exchange, table: SharedTable, timestamp: str, field: str = "timestamp") -> int:
    """The table version current at ``timestamp`` (ISO 8601 with a time zone)."""
    moment = _moment(timestamp, field)
    delta = DeltaTable(table.view.table.uri, without_files=True)
    try:
        delta.load_as_version(moment)
    except Exception as error:  # before the first commit
        raise SharingBadParameter(
            "该时间点表尚无版本 (no table version at that timestamp)"
        ) from error
    return delta.version()


def _commit_times(table: SharedTable) -> dict[int, int]:
    """Each version's commit time in epoch milliseconds, from the Delta log."""
    history = DeltaTable(table.view.table.uri, without_files=True).history()
    return {int(e["version"]): int(e["timestamp"]) for e in history}


def version_from(table: SharedTable, timestamp: str, field: str = "startingTimestamp") -> int:
    """The earliest version committed at or after ``timestamp`` (the protocol's
    ``startingTimestamp``), which may be version 0 for a moment before the table existed."""
    at = int(_moment(timestamp, field).timestamp() * 1000)
    after = [v for v, ms in _commit_times(table).items() if ms >= at]
    if not after:
        raise SharingBadParameter(
            f"{field} 之后表没有新版本 (no table version at or after {field})"
        )
    return min(after)


def _plans(ex: Exchange, table: SharedTable) -> dict[str, FieldPlan]:
    detected = ex.lake.snapshot(table.view.table).identifier_columns()
    return plan_fields(table.view.served_fields(table.access, detected), ex.disclosure)


def recipe_of(ex: Exchange, table: SharedTable, source: ds.Dataset) -> Recipe:
    """What the grant's masked files are made of now: its granted, not withheld columns
    present in the table, each field's plan, the deployment's rules (and the day)."""
    plans = _plans(ex, table)
    withheld = {n for n, p in plans.items() if p.treatment is Treatment.WITHHOLD}
    columns = [n for n in table.access if n in source.schema.names and n not in withheld]
    return Recipe.of(
        table_uri=table.view.table.uri,
        columns=columns,
        plans={n: plans[n] for n in columns},
        rules=ex.disclosure,
        today=ex.today(),
        file_rows=ex.config.sharing_file_rows,
    )


def materialise(ex: Exchange, table: SharedTable, version: int | None = None) -> MaskedVersion:
    """The masked files of ``table`` at ``version``: written by ``jobs.sharing`` after the
    table's commit, or here on first use (a grant never read, a changed grant or rule)."""
    at, source = _source(ex, table, version)
    return masked_version(
        sharing_root(ex),
        grant_id=table.grant_id,
        version=at,
        source=source,
        recipe=recipe_of(ex, table, source),
        batch_rows=ex.config.extract_batch_rows,
    )


# ---- signed file URLs ---------------------------------------------------------------------


def _signature(ex: Exchange, path: str, expires: int, issued: str) -> str:
    secret = ex.key.derive_secret("delta-sharing-files")
    message = f"{path}\n{expires}" + (f"\n{issued}" if issued else "")
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def signed_url(ex: Exchange, base: str, path: str, *, issued: str) -> tuple[str, int]:
    """A URL of one masked file, good for :data:`FILE_TTL_SECONDS`; (url, expiry in ms).

    ``issued`` names the query that hands the URL out (its request id), so two reads of the
    same file are two URLs, each a download of its own in the audit log.
    """
    expires = int(ex.clock().timestamp()) + FILE_TTL_SECONDS
    signature = _signature(ex, path, expires, issued)
    return f"{base}/files/{path}?exp={expires}&q={issued}&sig={signature}", expires * 1000


def _file_grant(path: str) -> int:
    return int(path.split("/", 1)[0].removeprefix("g"))


def _served_file(ex: Exchange, path: str) -> Path | None:
    root = sharing_root(ex)
    found = (root / path).resolve()
    return found if root in found.parents and found.is_file() else None


def open_file(
    ex: Exchange, call: DataCall, *, path: str, expires: int, issued: str, signature: str,
    client: str = "",
) -> Path:  # fmt: skip
    """The masked file a signed URL names, refused once expired, forged or its grant ended.

    Every request checks all three; the first request of a download (``exchange_api.downloads``:
    the run of requests on one signed URL from one client address) is audited, so a connector
    fetching a file in a dozen range requests makes one entry, and every refusal makes one.
    """
    now = ex.clock()
    if (
        hmac.compare_digest(_signature(ex, path, expires, issued), signature)
        and expires > now.timestamp()
        and ex.downloads.continues(signature, client, now.timestamp())
    ):
        with ex.catalog.unit() as ctx:
            live = repository.grant_standing(ctx.session, _file_grant(path)).live(ctx.now())
        found = _served_file(ex, path) if live else None
        if found is not None:
            return found
        # Refused now: the audited path below says why, and logs it.
    with ex.audited(call) as recorder:
        expected = _signature(ex, path, expires, issued)
        if not hmac.compare_digest(expected, signature):
            raise FileUrlRefused("文件链接签名无效 (invalid file URL signature)")
        if expires <= now.timestamp():
            raise FileUrlRefused("文件链接已过期，请重新查询 (the file URL has expired)")
        with ex.catalog.unit() as ctx:
            grant = repository.grant_standing(ctx.session, _file_grant(path))
            live = grant.live(ctx.now())
        recorder.record.grant_id = grant.id
        recorder.record.purpose = grant.purpose
        recorder.record.department_code = grant.department_code
        recorder.record.actor = f"sharing:{grant.department_code}"
        recorder.record.resource_code = grant.resource_code
        recorder.record.provider_code = grant.provider_code
        if not live:
            raise FileUrlRefused("授权已撤销或过期，文件不再提供 (the grant has ended)")
        found = _served_file(ex, path)
        if found is None:
            raise SharingNotFound(_NOT_FOUND)
        version = path.split("/")[1].split("-")[0].removeprefix("v")
        recorder.record.table_version = int(version) if version.isdigit() else None
        recorder.record.result_hash = hashlib.sha256(path.encode()).hexdigest()
    ex.downloads.started(signature, client, now.timestamp())  # its entry is committed
    return found


# ---- table calls --------------------------------------------------------------------------


def _protocol_lines(
    table: SharedTable, masked: MaskedVersion, *, delta: bool = False
) -> list[dict[str, Any]]:
    """The protocol and metaData lines, in the parquet format or wrapping Delta actions."""
    described = {
        "id": table.id,
        "format": {"provider": "parquet", "options": {}},
        "schemaString": masked.schema_string,
        "partitionColumns": [],
        "configuration": {},
    }
    totals = {"size": sum(f.size for f in masked.files), "numFiles": len(masked.files)}
    if delta:
        return [
            {"protocol": {"deltaProtocol": {"minReaderVersion": 1, "minWriterVersion": 2}}},
            {"metaData": {"deltaMetadata": described, "version": masked.version, **totals}},
        ]
    return [
        {"protocol": {"minReaderVersion": 1}},
        {"metaData": {**described, "name": table.name, "version": masked.version, **totals}},
    ]


def _issued(call: DataCall) -> str:
    """The part of a query's request id its file URLs carry (and their signature covers)."""
    return call.request_id[:16]


def _file_line(
    ex: Exchange, base: str, f: MaskedFile, version: int | None, *, delta: bool, issued: str
) -> dict[str, Any]:
    url, expiry = signed_url(ex, base, f.path, issued=issued)
    file_id = hashlib.sha256(f.path.encode()).hexdigest()[:32]
    stats = json.dumps(f.stats, ensure_ascii=False)
    entry: dict[str, Any]
    if delta:
        add = {
            "path": url, "partitionValues": {}, "size": f.size, "dataChange": True,
            "modificationTime": expiry - FILE_TTL_SECONDS * 1000, "stats": stats,
        }  # fmt: skip
        entry = {"id": file_id, "deltaSingleAction": {"add": add}, "expirationTimestamp": expiry}
    else:
        entry = {
            "url": url, "id": file_id, "partitionValues": {}, "size": f.size, "stats": stats,
            "expirationTimestamp": expiry,
        }  # fmt: skip
    if version is not None:
        entry["version"] = version
    return {"file": entry}


def table_version(
    ex: Exchange, call: DataCall, *, share: str, schema: str, name: str,
    starting_timestamp: str | None = None,
) -> int:  # fmt: skip
    """The current version, or with ``starting_timestamp`` the earliest at or after it."""
    with ex.audited(call) as recorder:
        table = _find(ex, call, share, schema, name)
        _uses(call, recorder, table)
        if starting_timestamp is not None:
            version = version_from(table, starting_timestamp)
        else:
            version = ex.lake.snapshot(table.view.table).version
        recorder.record.table_version = version
        return version


def metadata(
    ex: Exchange, call: DataCall, *, share: str, schema: str, name: str, delta: bool = False
) -> tuple[int, list[dict[str, Any]]]:
    with ex.audited(call) as recorder:
        table = _find(ex, call, share, schema, name)
        _uses(call, recorder, table)
        masked = materialise(ex, table)
        recorder.record.table_version = masked.version
        recorder.record.fields = masked.columns
        return masked.version, _protocol_lines(table, masked, delta=delta)


def query(
    ex: Exchange, call: DataCall, *, share: str, schema: str, name: str, base: str,
    version: int | None = None, timestamp: str | None = None, limit_hint: int | None = None,
    delta: bool = False, json_hints: str | None = None, sql_hints: list[str] | None = None,
) -> tuple[int, list[dict[str, Any]]]:  # fmt: skip
    """Protocol, metadata and one signed ``file`` line per masked file: fewer with a limit,
    or where the predicate hints and the file's statistics rule every row out."""
    with ex.audited(call) as recorder:
        table = _find(ex, call, share, schema, name)
        _uses(call, recorder, table)
        if timestamp is not None:
            version = version_at(ex, table, timestamp)
        masked = materialise(ex, table, version)
        may_match = file_filter(json_hints=json_hints, sql_hints=sql_hints)
        files = [f for f in masked.files if may_match(f.stats)]
        if limit_hint is not None:
            chosen, rows = [], 0
            for f in files:
                if rows >= limit_hint:
                    break
                chosen.append(f)
                rows += f.rows
            files = chosen or files[:1]
        lines = _protocol_lines(table, masked, delta=delta)
        at = masked.version if version is not None else None
        issued = _issued(call)
        lines += [_file_line(ex, base, f, at, delta=delta, issued=issued) for f in files]
        ex.commit(
            recorder,
            fields=masked.columns,
            rows=sum(f.rows for f in files),
            result=[f.path for f in files],
            table_version=masked.version,
        )
        return masked.version, lines


def _change_line(
    ex: Exchange, base: str, f: MaskedFile, *, kind: str, version: int, timestamp: int,
    issued: str,
) -> dict[str, Any]:  # fmt: skip
    url, expiry = signed_url(ex, base, f.path, issued=issued)
    entry: dict[str, Any] = {
        "url": url, "id": hashlib.sha256(f.path.encode()).hexdigest()[:32],
        "partitionValues": {}, "size": f.size, "timestamp": timestamp, "version": version,
        "expirationTimestamp": expiry,
    }  # fmt: skip
    if kind == "add":
        entry["stats"] = json.dumps(f.stats, ensure_ascii=False)
    return {kind: entry}


def changes(
    ex: Exchange, call: DataCall, *, share: str, schema: str, name: str, base: str,
    starting_version: int | None = None, starting_timestamp: str | None = None,
    ending_version: int | None = None, ending_timestamp: str | None = None,
) -> tuple[int, list[dict[str, Any]]]:  # fmt: skip
    """The change data feed from the starting to the ending version, both included.

    The lake records no change data, so each version's changes are derived by comparing the
    grant's masked files of that version with the previous one (``lake.masked.changes_file``:
    inserts and deletes, an update being both); version 0 is its files, all inserts.
    """
    if (starting_version is None) == (starting_timestamp is None):
        raise SharingBadParameter(
            "须且只能给出 startingVersion 或 startingTimestamp 之一 (give one starting point)"
        )
    if ending_version is not None and ending_timestamp is not None:
        raise SharingBadParameter(
            "endingVersion 与 endingTimestamp 只能给一个 (give one ending point, not both)"
        )
    with ex.audited(call) as recorder:
        table = _find(ex, call, share, schema, name)
        _uses(call, recorder, table)
        times = _commit_times(table)
        latest = max(times)
        if starting_timestamp is not None:
            starting_version = version_from(table, starting_timestamp)
        if ending_timestamp is not None:
            ending_version = version_at(ex, table, ending_timestamp, "endingTimestamp")
        start = starting_version if starting_version is not None else 0
        end = latest if ending_version is None else ending_version
        if not 0 <= start <= end <= latest:
            raise SharingBadParameter(
                f"版本范围无效：须 0 ≤ 起始 ≤ 结束 ≤ 当前版本 {latest} "
                f"(invalid version range {start}..{end}; latest is {latest})"
            )
        previous = materialise(ex, table, start - 1) if start > 0 else None
        current = materialise(ex, table, end)
        lines = _protocol_lines(table, current)
        handed: list[MaskedFile] = []
        for version in range(start, end + 1):
            masked = current if version == end else materialise(ex, table, version)
            stamp = times.get(version, 0)
            if previous is None:
                for f in masked.files:
                    lines.append(_change_line(
                        ex, base, f, kind="add", version=version, timestamp=stamp,
                        issued=_issued(call),
                    ))  # fmt: skip
                    handed.append(f)
            else:
                try:
                    changed = changes_file(sharing_root(ex), previous=previous, current=masked)
                except ValueError as error:
                    raise SharingBadParameter(
                        f"版本 {version} 的列与上一版本不同，无法给出变更 (columns changed)"
                    ) from error
                if changed is not None:
                    lines.append(_change_line(
                        ex, base, changed, kind="cdf", version=version, timestamp=stamp,
                        issued=_issued(call),
                    ))  # fmt: skip
                    handed.append(changed)
            previous = masked
        ex.commit(
            recorder,
            fields=current.columns,
            rows=sum(f.rows for f in handed),
            result=[f.path for f in handed],
            table_version=end,
        )
        return start, lines


# ---- profile files ------------------------------------------------------------------------


def profile_document(*, endpoint: str, bearer_token: str) -> dict[str, Any]:
    """A Delta Sharing profile (version 1). No ``expirationTime``: the token is a department
    key that lives until revoked (``govshare keys revoke``), so none would be true."""
    return {
        "shareCredentialsVersion": 1,
        "endpoint": endpoint.rstrip("/"),
        "bearerToken": bearer_token,
    }
