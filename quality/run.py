"""Running the gate: after an ingest batch's counts (``conclude``), or on its own (``check``).

``conclude`` is what the ingest job calls once it has its counts and decision: it renders GE
Data Docs from the counts and records the result (and a hold) in the catalogue. ``check``
evaluates a resource's rules on its current validated table or on a file, records the
outcome as ``checked`` and publishes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from catalog import repository as catalog_repository
from catalog.context import Actor, CatalogContext, utcnow
from catalog.store import Catalog
from checks import gate as verdict
from checks.plan import plan_for
from checks.rules import RuleSet
from infra.settings import Settings
from lake import delta
from lake.delta import TableRef
from pipelines.sources import inspect_source, read_frame
from quality import auth, gate
from quality import repository as repo
from quality.errors import NotFound
from quality.evaluate import evaluate, evaluate_small_file, read_source
from quality.service import ruleset_for


def samples_by_rule(ruleset: RuleSet, sample: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Masked failing values per rule id, for GE's ``partial_unexpected_list``."""
    by_reason = {r.reason: r for r in ruleset.rules}
    out: dict[str, list[str]] = {}
    for row in sample:
        for reason in row.get("reasons", []):
            rule = by_reason.get(reason)
            if rule is None:
                continue
            value = (row.get("values") or {}).get(rule.item)
            out.setdefault(rule.id, []).append("" if value is None else str(value))
    return out


def conclude(
    ctx: CatalogContext,
    *,
    ruleset: RuleSet,
    batch_id: str,
    decision: verdict.GateDecision,
    counts: dict[str, int],
    sample: list[dict[str, Any]],
    run_kind: str = "ingest",
    data_docs: bool = True,
) -> verdict.GateDecision:
    """Data Docs from the counts, then the result (and any hold) in the catalogue."""
    docs_path = ""
    if data_docs:
        from quality.expectations import validation_result, write_data_docs

        result = validation_result(
            ruleset,
            batch_id=batch_id,
            rows_read=decision.rows_read,
            counts=counts,
            samples=samples_by_rule(ruleset, sample),
            run_time=ctx.now(),
        )
        docs_path = str(write_data_docs(ctx.settings, ruleset, result))
    gate.record(
        ctx,
        ruleset=ruleset,
        batch_id=batch_id,
        decision=decision,
        counts=counts,
        sample=sample,
        docs_path=docs_path,
        run_kind=run_kind,
    )
    if data_docs:
        from quality import docs_index

        docs_index.refresh(ctx)
    return decision


def check(
    settings: Settings,
    *,
    resource_code: str,
    actor: Actor,
    path: Path | None = None,
    today: date,
    clock: Callable[[], datetime] = utcnow,
) -> dict[str, Any]:
    """Evaluate the rules on the validated table (or ``path``) without publishing anything;
    ``today`` is the run's date the date rules judge by."""
    from pipelines.spark import spark_session

    catalog = Catalog(settings, clock=clock)
    workdir = Path(settings.lake_path) / "_staging" / "_checks" / f"source-{uuid.uuid4().hex}"
    try:
        with catalog.unit() as ctx:
            resource = catalog_repository.resource(ctx.session, resource_code)
            auth.run_check(actor, resource)
            ruleset = ruleset_for(ctx, resource_code, today=today)
            mount = next((m for m in resource.mounts if m.target == ruleset.table), None)
            # The file is read exactly as the ingest job would read it: the mount's encoding,
            # layout, column mapping, ignored columns, defaults and units.
            plan = (
                plan_for(resource, mount, in_service=False)
                if path is not None and mount is not None
                else None
            )
        locate = evaluation = None
        if path is not None and plan is not None:
            locate = inspect_source(path, plan)
            ruleset = dataclasses.replace(ruleset, items=plan.items)
            evaluation = evaluate_small_file(path, locate, ruleset, settings=settings)
        if path is not None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:24]
            batch_id = f"check-{digest}"
            source = str(path)
        if evaluation is None:
            spark = spark_session(settings)
            if path is not None:
                frame = (
                    read_frame(spark, path, locate, workdir=workdir)
                    if locate is not None
                    else read_source(spark, path)
                )
            else:
                table = TableRef(settings.lake_path, "validated", ruleset.table)
                files = delta.live_files(table)
                if not files:
                    raise NotFound(f"数据湖中没有表 (no lake table) {table.qualified}")
                frame = spark.read.parquet(*files).select(*ruleset_items(ruleset))
                version = delta.version(table)
                batch_id = f"check-{ruleset.table[:40]}-v{version}"
                source = f"{table.qualified}@v{version}"
            evaluation = evaluate(frame, ruleset, spark=spark, settings=settings, source=locate)
        decision = verdict.decide(
            rows_read=evaluation.rows_read,
            rows_failed=evaluation.rows_failed,
            threshold=ruleset.threshold,
            reasons=verdict.reasons(ruleset, evaluation.counts, rows_read=evaluation.rows_read),
        )
        with catalog.unit() as ctx:
            conclude(
                ctx,
                ruleset=ruleset,
                batch_id=batch_id,
                decision=decision,
                counts=evaluation.counts,
                sample=evaluation.sample,
                run_kind="check",
            )
            recorded = repo.result_or_none(ctx.session, batch_id)
            docs = recorded.docs_path if recorded is not None else ""
        return {
            "resource_code": resource_code,
            "source": source,
            "batch_id": batch_id,
            "rows_read": evaluation.rows_read,
            "rows_passed": evaluation.rows_passed,
            "rows_failed": evaluation.rows_failed,
            "pass_rate": round(evaluation.pass_rate, 6),
            "threshold": ruleset.threshold,
            "would_publish": decision.publish,
            "reasons": decision.reasons,
            "counts": {k: v for k, v in evaluation.counts.items() if v},
            "seconds": evaluation.seconds,
            "data_docs": docs,
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        catalog.dispose()


def ruleset_items(ruleset: RuleSet) -> list[str]:
    return [f"`{i.name}`" for i in ruleset.items]
