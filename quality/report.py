"""Quality reports: one resource's batches, and pass rates over time (resource, department, all).

The time series weighs each batch by its rows (a day's rate is rows passed over rows read
that day), so a large batch counts more than a small one, as 质检入库率 is defined. The chart
is one self-contained HTML file with inline SVG: it opens without network access.
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from catalog import repository as catalog_repository
from catalog.context import Actor, CatalogContext
from catalog.models import QualityResult
from checks.gate import HELD, LABELS
from infra.beijing_time import beijing, to_beijing
from quality import auth
from quality import repository as repo
from quality.page_style import BASE_CSS
from quality.service import ruleset_for


def result_out(result: QualityResult, *, with_detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "batch_id": result.batch_id,
        "resource_code": result.resource.code,
        "run_kind": result.run_kind,
        "rows_read": result.rows_read,
        "rows_passed": result.rows_passed,
        "rows_failed": result.rows_failed,
        "pass_rate": round(result.pass_rate, 6),
        "threshold": result.threshold,
        "decision": result.decision,
        "decision_label": LABELS.get(result.decision, result.decision),
        "created_at": result.created_at,
        "decided_by": result.decided_by,
        "data_docs": result.docs_path,
    }
    if with_detail:
        labels = result.rules or {}
        out["counts"] = [
            {
                "rule_id": rule_id,
                "label": (labels.get(rule_id) or {}).get("label", rule_id),
                "failed": count,
            }
            for rule_id, count in sorted(result.counts.items(), key=lambda kv: -kv[1])
            if count
        ]
        out["sample"] = result.sample
    return out


def report(
    ctx: CatalogContext, *, resource_code: str, actor: Actor, today: date, limit: int = 20
) -> dict[str, Any]:
    """The resource's rules (as they judge on ``today``), threshold, and its latest results
    with counts and samples."""
    resource = catalog_repository.resource(ctx.session, resource_code)
    auth.view_report(actor, resource)
    ruleset = ruleset_for(ctx, resource_code, today=today)
    results = list(repo.results(ctx.session, resource_id=resource.id))[-limit:]
    detailed = []
    for result in reversed(results):
        entry = result_out(result, with_detail=True)
        entry["history"] = [
            {"action": d.action, "actor": d.actor, "reason": d.reason, "at": d.at}
            for d in repo.decisions(ctx.session, result.id)
        ]
        detailed.append(entry)
    return {
        "resource_code": resource.code,
        "resource_name": resource.name,
        "provider_code": resource.provider.code,
        "threshold": ruleset.threshold,
        "rules": ruleset.describe(),
        "results": detailed,
    }


def held_batches(ctx: CatalogContext, *, actor: Actor) -> list[dict[str, Any]]:
    """Every batch the gate holds for a steward's release or rejection, oldest first."""
    auth.view_overview(actor)
    held = [r for r in repo.results(ctx.session) if r.decision == HELD]
    return [
        {**result_out(r), "resource_name": r.resource.name, "provider_name": r.department.name}
        for r in sorted(held, key=lambda r: r.created_at)
    ]


def series(ctx: CatalogContext, *, actor: Actor, since: datetime | None = None) -> dict[str, Any]:
    """Daily pass rates of ingest batches per resource, per department and overall."""
    auth.view_overview(actor)
    groups: dict[str, dict[str, dict[str, list[int]]]] = {
        "resource": defaultdict(lambda: defaultdict(lambda: [0, 0])),
        "department": defaultdict(lambda: defaultdict(lambda: [0, 0])),
        "overall": defaultdict(lambda: defaultdict(lambda: [0, 0])),
    }
    for result in repo.results(ctx.session, since=since, run_kind="ingest"):
        day = to_beijing(result.created_at).date().isoformat()  # the day in Beijing, not UTC
        for group, key in (
            ("resource", f"{result.resource.code} {result.resource.name}"),
            ("department", result.department.name),
            ("overall", "全部 (overall)"),
        ):
            cell = groups[group][key][day]
            cell[0] += result.rows_passed
            cell[1] += result.rows_read
    return {
        group: {
            key: [
                {"day": day, "rows_read": read, "pass_rate": round(passed / read, 6) if read else 1}
                for day, (passed, read) in sorted(days.items())
            ]
            for key, days in sorted(keys.items())
        }
        for group, keys in groups.items()
    }


_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")
TITLES = {"overall": "总体 (overall)", "department": "按部门 (by department)"}
TITLES["resource"] = "按信息资源 (by resource)"


def _svg(lines: dict[str, list[dict[str, Any]]], *, threshold: float = 0.99) -> str:
    """One line chart: x = days, y = pass rate from 90% to 100%, the threshold dashed."""
    days = sorted({p["day"] for points in lines.values() for p in points})
    if not days:
        return "<p>暂无数据 (no data)</p>"
    width, height, pad = 720, 260, 40
    low = min([0.9] + [p["pass_rate"] for pts in lines.values() for p in pts])

    def x(day: str) -> float:
        i = days.index(day)
        return pad + (width - 2 * pad) * (i / max(len(days) - 1, 1))

    def y(rate: float) -> float:
        return height - pad - (height - 2 * pad) * ((rate - low) / (1 - low or 1))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">',
        f'<line x1="{pad}" x2="{width - pad}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
        'stroke="#999" stroke-dasharray="4 4"/>',
        f'<text x="{width - pad}" y="{y(threshold) - 4:.1f}" font-size="11" text-anchor="end">'
        f"阈值 {threshold:.0%}</text>",
        f'<text x="4" y="{y(1.0) + 4:.1f}" font-size="11">100%</text>',
        f'<text x="4" y="{y(low) + 4:.1f}" font-size="11">{low:.0%}</text>',
    ]
    for i, (name, points) in enumerate(lines.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        coords = " ".join(f"{x(p['day']):.1f},{y(p['pass_rate']):.1f}" for p in points)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>'
        )
        for p in points:
            parts.append(
                f'<circle cx="{x(p["day"]):.1f}" cy="{y(p["pass_rate"]):.1f}" r="3" '
                f'fill="{colour}"><title>{html.escape(name)} {p["day"]} '
                f"{p['pass_rate']:.2%} ({p['rows_read']} 行)</title></circle>"
            )
        parts.append(
            f'<text x="{pad + 4}" y="{16 + 14 * i}" font-size="12" fill="{colour}">'
            f"{html.escape(name)}</text>"
        )
    parts.append(
        f'<text x="{pad}" y="{height - 8}" font-size="11">{days[0]}</text>'
        f'<text x="{width - pad}" y="{height - 8}" font-size="11" text-anchor="end">'
        f"{days[-1]}</text></svg>"
    )
    return "".join(parts)


def chart_html(data: dict[str, Any], *, generated_at: datetime) -> str:
    sections = "".join(
        f"<h2>{TITLES[group]}</h2>{_svg(data[group])}" for group in ("overall", "department")
    )
    per_resource = "".join(
        f"<h3>{html.escape(name)}</h3>{_svg({name: points})}"
        for name, points in data["resource"].items()
    )
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<title>质检入库率 (pass rates)</title>"
        f"<style>{BASE_CSS}svg{{border:1px solid #ddd}}</style>"
        f"</head><body><h1>质检入库率 (quality pass rates)</h1>"
        f"<p>生成时间 {beijing(generated_at)}（北京时间；按北京时间的日期汇总）</p>{sections}"
        f"<h2>{TITLES['resource']}</h2>{per_resource}</body></html>"
    )


def write_chart(ctx: CatalogContext, *, actor: Actor, out: Path | None = None) -> Path:
    """The HTML chart report under ``GOVSHARE_HOME/quality/reports`` (or ``out``)."""
    data = series(ctx, actor=actor)
    target = out or (ctx.settings.home / "quality" / "reports" / "pass_rates.html").resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(chart_html(data, generated_at=ctx.now()), encoding="utf-8")
    return target


def notifications(
    ctx: CatalogContext, *, actor: Actor, department_code: str | None = None
) -> list[dict[str, Any]]:
    """Notices to provider departments (held and rejected batches), newest last."""
    department = None
    if department_code:
        department = catalog_repository.department(ctx.session, department_code)
        auth.view_notifications(actor, department)
    else:
        auth.view_overview(actor)
    notices = repo.notifications(ctx.session, department_id=department.id if department else None)
    results = {
        r.batch_id: r for r in repo.results_of_batches(ctx.session, {n.batch_id for n in notices})
    }
    return [
        {
            "id": n.id,
            "department_code": n.department.code,
            "resource_code": n.resource.code,
            "batch_id": n.batch_id,
            "kind": n.kind,
            "message": n.message,
            "reasons": n.reasons,
            "created_at": n.created_at,
            **_batch_status(results.get(n.batch_id)),
        }
        for n in notices
    ]


def _batch_status(result: QualityResult | None) -> dict[str, Any]:
    """Where the noticed batch stands now: a notice keeps the words of the day it was sent
    ("等待审核员放行"), which read as still pending after a steward released the batch."""
    if result is None:  # held before the gate ran (a base table not loaded yet)
        return {"decision": None, "status": "尚未质检，等待基础库入库后重新运行 (not checked yet)"}
    label = LABELS.get(result.decision, result.decision)
    if result.decision == HELD:
        status = f"{label}，等待审核员放行或退回 (held, awaiting a steward)"
    elif result.decided_at is not None:
        status = f"{label}（{result.decided_by or ''}，{beijing(result.decided_at)} 北京时间）"
    else:
        status = label
    return {"decision": result.decision, "status": status}
