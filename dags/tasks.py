"""What the generated DAGs' tasks do, as plain functions testable without Airflow.

Each function takes the settings and a :class:`RunRef` (which DAG run it serves) and calls
the catalogue and the pipelines; ``dags.factory`` only wires them into TaskFlow tasks. The
heavy pieces (Spark, Delta, the quality gate) are imported inside the functions, because
Airflow imports this module whenever a task starts.

Everything a run decides ends up in the catalogue: batches through ``jobs.batch``
(counts, status, mount state and freshness), and one history entry on the mount for each
run outcome (调度入库 with the pass rate, 调度失败 with the reason, 推送超时 when the
same-day deadline was missed), so stewards see the schedule's effect where they already look.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog.context import CHINA_TZ, utcnow
from dags import lineage
from dags.cycles import push_deadline
from dags.errors import GateHeld, PushOverdue
from infra.settings import Settings

if TYPE_CHECKING:
    from pipelines.themes.spec import ThemeSpec

log = logging.getLogger("govshare.dags")

# History actions on the mount (history.action is at most 40 characters).
RUN_RECORDED = "调度入库"
RUN_FAILED = "调度失败"
RUN_OVERDUE = "推送超时"
EMPTY_PUSH = "空推送"
THEMES_REFRESHED = "主题刷新"


@dataclass(frozen=True)
class RunRef:
    """The Airflow run a task serves; ``due`` is when the run was due (its logical date),
    ``started`` when the scheduler started it (None where no scheduler ran it)."""

    dag_id: str
    run_id: str
    due: datetime
    started: datetime | None = None

    def as_dict(self) -> dict[str, str]:
        return {"dag_id": self.dag_id, "run_id": self.run_id, "due": self.due.isoformat()}


# ---- catalogue helpers ---------------------------------------------------------------------


def _note(
    settings: Settings,
    *,
    resource_code: str,
    action: str,
    after: dict[str, Any],
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """One history entry on the resource's 库表 mount, written by the pipeline actor."""
    from catalog import batches, repository
    from catalog.history import record
    from catalog.mounts import table_mount
    from catalog.store import Catalog

    catalog = Catalog(settings, clock=clock)
    try:
        with catalog.unit() as ctx:
            mount = table_mount(repository.resource(ctx.session, resource_code))
            if mount is None:
                return
            record(
                ctx,
                entity="mount",
                entity_id=mount.id,
                action=action,
                actor=batches.PIPELINE,
                before=None,
                after=after,
            )
    finally:
        catalog.dispose()


def _lake_datasets(settings: Settings, table: str, summaries: list[dict[str, Any]]) -> list[Any]:
    from pipelines.ingest import tables

    published = [s for s in summaries if not s.get("skipped")]
    refs = tables(settings, table)
    rows = {
        "raw": sum(s.get("rows_read", 0) for s in published),
        "quarantine": sum(s.get("rows_quarantined", 0) for s in published),
        "validated": sum(s.get("rows_accepted", 0) for s in published),
    }
    versions = {
        "raw": [s.get("raw_version") for s in published],
        "quarantine": [s.get("quarantine_version") for s in published],
        "validated": [s.get("table_version") for s in published],
    }
    found = []
    for layer, ref in refs.items():
        known = [v for v in versions[layer] if v is not None]
        found.append(
            lineage.location_dataset(
                ref.uri,
                alias=ref.qualified,
                version=max(known) if known else None,
                rows=rows[layer],
            )
        )
    return found


def _file_datasets(paths: list[str]) -> list[Any]:
    return [lineage.location_dataset(p, alias="landing." + Path(p).name) for p in paths]


# ---- the steps of an ingest run ------------------------------------------------------------


def new_files(settings: Settings, *, resource_code: str, table: str) -> list[str]:
    """Landing files this resource has not settled yet (published, rejected or held).

    A file is known by its content hash, as its batch is: renaming a file does not ingest it
    twice, and a corrected file under the same name is new. FAILED batches (internal errors)
    and batches held only until a base library is loaded count as not settled, so the next
    run tries them again.
    """
    from catalog import batches
    from catalog.store import Catalog
    from jobs.batch import landing_files
    from pipelines.sources import file_digest

    files = landing_files(settings, table)
    if not files:
        return []
    settled = (batches.PUBLISHED, batches.REJECTED, batches.HELD, batches.EMPTY)
    catalog = Catalog(settings)
    try:
        with catalog.unit() as ctx:
            done = {
                b.file_sha256
                for b in batches.batches(ctx, resource_code=resource_code)
                if b.status in settled and not batches.waits_for_base(b)
            }
    finally:
        catalog.dispose()
    return [str(p) for p in files if file_digest(p)[0] not in done]


def ingest(
    settings: Settings, *, resource_code: str, paths: list[str], run: RunRef
) -> list[dict[str, Any]]:
    """Stage each new file as one batch: raw and quarantine committed, passing rows staged.

    ``jobs.batch.stage_one`` records every batch in the catalogue with the counts the gate
    needs; the run's date for the quality rules is its logical date. A file it refuses
    raises, which fails this run without touching the others.
    """
    from jobs.batch import stage_one

    lineage.emit(
        settings,
        state="START",
        dag_id=run.dag_id,
        run_id=run.run_id,
        at=utcnow(),
        nominal=run.due,
        inputs=_file_datasets(paths),
    )
    summaries = []
    day = run.due.astimezone(CHINA_TZ).date()
    for path in paths:
        summary = stage_one(
            settings, resource_code=resource_code, path=Path(path), as_of=day, logical_date=day
        )
        summaries.append(summary.as_dict())
    return summaries


def _to_gate(summary: dict[str, Any]) -> bool:
    """A batch this run staged and the gate has not judged (not skipped, empty or waiting)."""
    return not (summary.get("skipped") or summary.get("empty") or summary.get("held"))


def check_gate(settings: Settings, *, summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The quality gate on each staged batch; the run passes only if none was held.

    ``jobs.batch.gate_one`` decides (``checks.gate.decide``) and records each verdict in the
    catalogue; this step returns the decisions by batch id for the publish step. A batch held
    here (or earlier, or waiting for a base library) fails the run with the reasons.
    """
    from catalog import batches
    from catalog.store import Catalog
    from jobs.batch import HELD_DECISION, PUBLISHED_DECISION, gate_one

    decisions: dict[str, str] = {}
    held: list[str] = []
    settled = []  # skipped, empty, waiting, or settled before this step: the catalogue says
    for s in summaries:
        decision = gate_one(settings, batch_id=s["batch_id"]) if _to_gate(s) else None
        if decision is None:
            settled.append(s)
            continue
        decisions[s["batch_id"]] = PUBLISHED_DECISION if decision.publish else HELD_DECISION
        if not decision.publish:
            held.append(f"{Path(s['source_file']).name}：{decision.message}")
    catalog = Catalog(settings)
    try:
        with catalog.unit() as ctx:
            for s in settled:
                record = batches.batch_or_none(ctx, s["batch_id"])
                status = record.status if record is not None else None
                if s.get("held") or status == batches.HELD:
                    reason = s.get("hold_reason") or (record.message if record else "") or "未说明"
                    held.append(f"{Path(s['source_file']).name}：{reason}")
    finally:
        catalog.dispose()
    if held:
        # Batches this run passed stay staged under their 已入库 decision: the next run of the
        # resource, the gate orders DAG or ``govshare quality apply`` publishes them.
        raise GateHeld(
            "质检未达标，暂缓入库 (quality gate held the batch): " + "；".join(held),
            details=held,
        )
    rows_read = sum(s.get("rows_read", 0) for s in summaries)
    rows_accepted = sum(s.get("rows_accepted", 0) for s in summaries)
    # An empty push does not fail the run (the provider may have had nothing), but the task
    # log and the mount's history say so: a header-only file is not fresh data.
    empty = [Path(s["source_file"]).name for s in summaries if s.get("empty")]
    for name in empty:
        log.warning("空批次：%s 没有数据行，未入库 (empty batch: no data rows)", name)
    return {
        "batches": len(summaries),
        "decisions": decisions,
        "empty_batches": empty,
        "rows_read": rows_read,
        "rows_accepted": rows_accepted,
        "pass_rate": round(rows_accepted / rows_read, 6) if rows_read else None,
    }


def publish(
    settings: Settings,
    *,
    table: str,
    summaries: list[dict[str, Any]],
    gate: dict[str, Any],
    run: RunRef,
) -> dict[str, Any]:
    """Publish the staged rows of every batch the gate passed, then report the lineage.

    ``jobs.batch.publish_one`` commits each batch to the validated table (once, however
    often it runs) and marks it 已入库; the Delta version is then checked (a commit that
    vanished is an error, not a success) and the run's OpenLineage COMPLETE event names the
    files read and the tables written.
    """
    from jobs.batch import PUBLISHED_DECISION, publish_one
    from lake import delta
    from lake.errors import TransientLakeError
    from pipelines.ingest import tables

    versions: dict[str, int | None] = {}
    for batch_id, decision in (gate.get("decisions") or {}).items():
        if decision == PUBLISHED_DECISION:
            versions[batch_id] = publish_one(settings, batch_id=batch_id).version
    summaries = [
        {**s, "table_version": versions.get(s["batch_id"], s.get("table_version"))}
        for s in summaries
    ]
    validated = tables(settings, table)["validated"]
    current = delta.version(validated)
    expected = [s["table_version"] for s in summaries if s.get("table_version") is not None]
    if expected and (current is None or current < max(expected)):
        raise TransientLakeError(
            f"已校验表 {validated.qualified} 版本 {current} 落后于批次提交 {max(expected)} "
            "(validated table behind the batch commit)"
        )
    lineage.emit(
        settings,
        state="COMPLETE",
        dag_id=run.dag_id,
        run_id=run.run_id,
        at=utcnow(),
        nominal=run.due,
        inputs=_file_datasets([s["source_file"] for s in summaries]),
        outputs=_lake_datasets(settings, table, summaries),
    )
    return {
        "table": validated.qualified,
        "version": current,
        "versions": versions,
        "published": len(versions),
    }


def update_catalogue(
    settings: Settings,
    *,
    resource_code: str,
    summaries: list[dict[str, Any]],
    gate: dict[str, Any],
    run: RunRef,
) -> dict[str, Any]:
    """Record the run on the mount: batches, pass rate (质检入库率), state and freshness."""
    from catalog import repository
    from catalog.mounts import table_mount
    from catalog.store import Catalog, refresh_snapshot

    catalog = Catalog(settings)
    try:
        with catalog.unit() as ctx:
            mount = table_mount(repository.resource(ctx.session, resource_code))
            state = str(mount.state) if mount else None
            refreshed = mount.last_refreshed_at if mount else None
    finally:
        catalog.dispose()
    outcome = {
        **run.as_dict(),
        "batches": [s["batch_id"] for s in summaries],
        "rows_read": gate.get("rows_read", 0),
        "rows_accepted": gate.get("rows_accepted", 0),
        "pass_rate": gate.get("pass_rate"),
        "mount_state": state,
        "last_refreshed_at": refreshed.isoformat() if refreshed else None,
    }
    if gate.get("empty_batches"):
        outcome["empty_batches"] = gate["empty_batches"]
    _note(settings, resource_code=resource_code, action=RUN_RECORDED, after=outcome)
    if gate.get("empty_batches"):
        _note(
            settings,
            resource_code=resource_code,
            action=EMPTY_PUSH,
            after={
                **run.as_dict(),
                "files": gate["empty_batches"],
                "reason": "空批次：文件没有数据行，未入库 (empty push: no data rows)",
            },
        )
    # Landing data can move a mount to 已挂接: keep the capability list current.
    refresh_snapshot(settings)
    return outcome


def _theme_specs(settings: Settings, themes: list[str]) -> list[ThemeSpec]:
    """The specs of the defined themes held by these theme resources, as the catalogue
    describes them now."""
    from catalog.store import Catalog
    from catalog.themes import themes_reading
    from pipelines.themes.spec import resolve_theme

    catalog = Catalog(settings)
    try:
        with catalog.unit() as ctx:
            return [resolve_theme(ctx.session, t) for t in themes_reading(ctx.session, themes)]
    finally:
        catalog.dispose()


def affected_themes(settings: Settings, *, table: str, themes: list[str]) -> list[str]:
    """The theme resources (among ``themes``) that read this validated table."""
    from pipelines.themes.build import source_links

    if not themes:
        return []
    return [s.resource_code for s in _theme_specs(settings, themes) if table in source_links(s)]


# ---- the theme run -------------------------------------------------------------------------


def build_themes(settings: Settings, *, themes: list[str], run: RunRef) -> list[dict[str, Any]]:
    """Rebuild the given themes incrementally (only keys with new source rows are rewritten)."""
    from jobs.sharing import refresh_after_commit
    from pipelines.ingest import tables
    from pipelines.themes.build import build_theme, source_links, theme_tables

    specs = _theme_specs(settings, themes)
    today = run.due.astimezone(CHINA_TZ).date()
    sources = {t: tables(settings, t)["validated"] for s in specs for t in source_links(s)}
    inputs = [lineage.location_dataset(r.uri, alias=r.qualified) for r in sources.values()]
    lineage.emit(
        settings,
        state="START",
        dag_id=run.dag_id,
        run_id=run.run_id,
        at=utcnow(),
        nominal=run.due,
        inputs=inputs,
    )
    summaries = []
    outputs = []
    for spec in specs:
        summary = build_theme(settings, spec, today=today).as_dict()
        summary["resource_code"] = spec.resource_code
        summaries.append(summary)
        theme_ref, conflicts_ref = theme_tables(settings, spec)
        if not summary["skipped"]:
            refresh_after_commit(settings, table=theme_ref, today=today, now=utcnow())
        outputs.append(
            lineage.location_dataset(
                theme_ref.uri, alias=theme_ref.qualified, version=summary["version"]
            )
        )
        outputs.append(
            lineage.location_dataset(
                conflicts_ref.uri,
                alias=conflicts_ref.qualified,
                version=summary["conflicts_version"],
            )
        )
    lineage.emit(
        settings,
        state="COMPLETE",
        dag_id=run.dag_id,
        run_id=run.run_id,
        at=utcnow(),
        nominal=run.due,
        inputs=inputs,
        outputs=outputs,
    )
    return summaries


def record_themes(
    settings: Settings, *, summaries: list[dict[str, Any]], run: RunRef
) -> list[dict[str, Any]]:
    """Each rebuilt theme's mount is as fresh as this build; a history entry says so."""
    from catalog import batches, repository
    from catalog.mounts import capability
    from catalog.store import Catalog

    catalog = Catalog(settings)
    try:
        with catalog.unit() as ctx:
            for s in summaries:
                mount = capability(repository.resource(ctx.session, s["resource_code"]))
                if mount is not None and not s["skipped"]:
                    batches.land(ctx, mount=mount, at=ctx.now())
    finally:
        catalog.dispose()
    for s in summaries:
        _note(
            settings,
            resource_code=s["resource_code"],
            action=THEMES_REFRESHED,
            after={
                **run.as_dict(),
                "version": s["version"],
                "rows": s["rows"],
                "keys_rewritten": s["keys_rewritten"],
                "conflicts": s["conflicts"],
                "skipped": s["skipped"],
            },
        )
    return summaries


# ---- outcomes ------------------------------------------------------------------------------


def check_deadline(
    settings: Settings,
    *,
    resource_codes: list[str],
    run: RunRef,
    finished_at: datetime | None = None,
) -> dict[str, Any]:
    """Same-day push rule: a run finishing after the end of its due day is overdue.

    The overdue run is recorded on each mount it serves and this step fails, so the run is
    visibly late both in the catalogue and in Airflow. A run the scheduler only started after
    that deadline (Airflow was down, or the DAG was just unpaused and caught up its latest
    slot) says nothing about the department: nobody was waiting for its file in time. It is
    reported as started late, not overdue, and the run succeeds.
    """
    finished = finished_at or utcnow()
    deadline = push_deadline(run.due)
    started_late = run.started is not None and run.started > deadline
    outcome = {
        **run.as_dict(),
        "deadline": deadline.isoformat(),
        "finished_at": finished.isoformat(),
        "overdue": finished > deadline and not started_late,
        "started_late": started_late,
    }
    if started_late:
        log.warning(
            "run %s started after its push deadline %s: not judged overdue", run.run_id, deadline
        )
    if not outcome["overdue"]:
        return outcome
    for code in resource_codes:
        _note(settings, resource_code=code, action=RUN_OVERDUE, after=outcome)
    local = deadline.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    raise PushOverdue(
        f"超过当日推送时限 {local}（北京时间）(missed the same-day push deadline)",
        details=outcome,
    )


def record_failure(
    settings: Settings,
    *,
    resource_codes: list[str],
    run: RunRef,
    task_id: str,
    reason: str,
    error_code: str,
) -> None:
    """A task gave up: the reason goes on the mount's history and into the lineage."""
    after = {**run.as_dict(), "task": task_id, "error": error_code, "reason": reason}
    for code in resource_codes:
        _note(settings, resource_code=code, action=RUN_FAILED, after=after)
    lineage.emit(
        settings,
        state="FAIL",
        dag_id=run.dag_id,
        run_id=run.run_id,
        at=utcnow(),
        nominal=run.due,
        error=f"{task_id}: {reason}",
    )


def run_history(settings: Settings, *, resource_code: str) -> list[dict[str, Any]]:
    """The scheduler's entries on the resource's mount, oldest first (for reports and tests)."""
    from catalog import repository
    from catalog.mounts import table_mount
    from catalog.store import Catalog

    actions = {RUN_RECORDED, RUN_FAILED, RUN_OVERDUE, THEMES_REFRESHED, EMPTY_PUSH}
    catalog = Catalog(settings)
    try:
        with catalog.unit() as ctx:
            mount = table_mount(repository.resource(ctx.session, resource_code))
            if mount is None:
                return []
            entries = repository.history(ctx.session, entity="mount", entity_id=mount.id)
            return [
                {"action": e.action, "at": e.at.isoformat(), **(e.after or {})}
                for e in entries
                if e.action in actions
            ]
    finally:
        catalog.dispose()


def apply_gate_orders(settings: Settings, *, run: RunRef) -> list[dict[str, Any]]:
    """Carry out every steward's release or reject whose lake side has not happened yet."""
    from jobs.batch import apply_pending_orders

    done = apply_pending_orders(settings)
    for order, version in done:
        log.info("%s %s (%s): validated v%s", order.action, order.batch_id, order.table, version)
    return [{**order.__dict__, "table_version": version} for order, version in done]


def maintain_lake(settings: Settings, *, run: RunRef) -> list[dict[str, Any]]:
    """Compact, checkpoint and vacuum every lake table within the time-travel window."""
    from jobs.sharing import prune_shares
    from lake.maintenance import maintain_lake as maintain

    reports = [r.as_dict() for r in maintain(settings)]
    removed = prune_shares(settings, now=utcnow())
    log.info("Delta Sharing: %d masked folders outside the window or of ended grants removed",
             len(removed))  # fmt: skip
    for r in reports:
        log.info(
            "%s: v%s, oldest readable v%s, %s files vacuumed, %.1f → %.1f MB (live %.1f MB) %s",
            r["table"],
            r["version"],
            r["oldest_readable_version"],
            r["files_vacuumed"],
            r["bytes_before"] / 1e6,
            r["bytes_after"] / 1e6,
            r["live_bytes"] / 1e6,
            r["skipped"],
        )
    return reports
