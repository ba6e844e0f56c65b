"""缺口: the gap report, the same ``catalog.gaps.gap_report`` as ``govshare catalog gaps``.

The coverage chart reads ``/gaps/coverage.json`` from a script file (no inline script): a
department's view hides other departments' unpublished resources, as in the API.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse

from catalog.gaps import gap_report
from exchange_api.console.routes.common import console_router, resource_url, unit
from exchange_api.console.web import CurrentUser, render

router = console_router()


@router.get("/gaps")
def gaps(request: Request, user: CurrentUser) -> HTMLResponse:
    with unit(request) as ctx:
        report = gap_report(ctx, actor=user.actor)
    sections = [
        ("uncatalogued_duties", "未编目的职责", len(report.uncatalogued_duties)),
        ("unmounted_resources", "已发布未挂接的资源", len(report.unmounted_resources)),
        ("unowned_demands", "无责任部门的需求", len(report.unowned_demands)),
        ("no_capability_demands", "提供方有责无能力的需求", len(report.no_capability_demands)),
        ("overdue_reviews", "超期未审核", len(report.overdue_reviews)),
        ("source_conflicts", "一数一源冲突", len(report.source_conflicts)),
    ]
    return render(
        request,
        "gaps.html",
        report=report,
        sections=sections,
        total=report.total,
        resource_url=resource_url,
    )


@router.get("/gaps/coverage.json")
def coverage(request: Request, user: CurrentUser) -> JSONResponse:
    """应编尽编 coverage per department, for the bar chart."""
    with unit(request) as ctx:
        report = gap_report(ctx, actor=user.actor)
    rows = [c for c in report.coverage if c.duties]
    return JSONResponse(
        {
            "departments": [c.department_name for c in rows],
            "duties": [c.duties for c in rows],
            "covered": [c.covered for c in rows],
            "coverage": [round(c.coverage * 100, 1) for c in rows],
        }
    )
