"""质量: held batches for stewards to release or reject, each resource's batches with pass
rate, failures per rule and the masked failure sample, and pass-rate charts.

Everything comes from ``quality.report`` and ``quality.gate`` (the API's quality routes call
the same functions): a provider reads its own resources' reports and notices, stewards see
every resource and decide on held batches. As in the API, a release records the decision; the
lake side (publishing the staged rows) is carried out by the gate-orders DAG, the next ingest
or ``govshare quality apply``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from checks.gate import LABELS
from exchange_api.console.forms import text
from exchange_api.console.routes.common import console_router, notice, resource_url, see_other, unit
from exchange_api.console.routes.session import safe_next
from exchange_api.console.web import CheckedForm, CurrentUser, render
from infra.beijing_time import to_beijing
from infra.settings import Settings
from quality import docs_pages, gate, report

router = console_router()
DOCS_URL = "/quality/docs/"
# GE's pages carry inline scripts and styles, which the console's policy forbids. They are
# served in a sandbox instead: an opaque origin (no allow-same-origin), so their scripts can
# neither read nor call the console as the signed-in user; no requests, forms or framing.
DATA_DOCS_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
BatchId = Annotated[str, Path(min_length=1, max_length=64)]
ResourceCode = Annotated[str, Query(min_length=3, max_length=64)]


def quality_url(code: str) -> str:
    return "/quality/r/" + code


@router.get("/quality")
def overview(request: Request, user: CurrentUser) -> HTMLResponse:
    with unit(request) as ctx:
        if user.is_steward:
            held = report.held_batches(ctx, actor=user.actor)
            notices: list[dict[str, Any]] = []
        else:
            held = []
            notices = report.notifications(
                ctx, actor=user.actor, department_code=user.actor.department_code
            )
        has_docs_index = user.is_steward and docs_pages.has_index(ctx.settings)
        for batch in held:
            batch["docs_url"] = _docs_url(ctx.settings, batch["data_docs"])
    return render(
        request,
        "quality.html",
        has_docs_index=has_docs_index,
        held=held,
        notices=notices,
        notice=notice(request),
        quality_url=quality_url,
        resource_url=resource_url,
    )


@router.get("/quality/pass-rates.json")
def pass_rates(request: Request, user: CurrentUser) -> JSONResponse:
    """Daily pass rates per department and overall (stewards: ``auth.view_overview``)."""
    with unit(request) as ctx:
        series = report.series(ctx, actor=user.actor)
    lines = {**series["overall"], **series["department"]}
    days = sorted({point["day"] for points in lines.values() for point in points})
    return JSONResponse(
        {
            "x": days,
            "threshold": 99.0,
            "series": [
                {
                    "name": name,
                    "data": [
                        next(
                            (round(p["pass_rate"] * 100, 2) for p in points if p["day"] == d), None
                        )
                        for d in days
                    ],
                }
                for name, points in lines.items()
            ],
        }
    )


@router.get("/quality/rates.json")
def resource_rates(request: Request, user: CurrentUser, resource: ResourceCode) -> JSONResponse:
    """One resource's batches, oldest first: pass rate and what the gate or a steward decided."""
    with unit(request) as ctx:
        shown = report.report(ctx, resource_code=resource, actor=user.actor, today=ctx.today())
    batches = list(reversed(shown["results"]))
    threshold = round(shown["threshold"] * 100, 2)
    return JSONResponse(
        {
            "x": [
                f"{to_beijing(b['created_at']):%m-%d %H:%M} {b['batch_id'][:6]}" for b in batches
            ],
            "threshold": threshold,
            "series": [
                {"name": "质检合格率", "data": [round(b["pass_rate"] * 100, 2) for b in batches]}
            ],
            "decisions": [b["decision_label"] for b in batches],
        }
    )


@router.get("/quality/r/{code:path}")
def resource_report(request: Request, user: CurrentUser, code: str) -> HTMLResponse:
    with unit(request) as ctx:
        shown = report.report(ctx, resource_code=code, actor=user.actor, today=ctx.today())
        for batch in shown["results"]:
            batch["docs_url"] = _docs_url(ctx.settings, batch["data_docs"])
    return render(
        request,
        "quality_resource.html",
        q=shown,
        notice=notice(request),
        resource_url=resource_url,
        labels=LABELS,
    )


def _docs_url(settings: Settings, docs_path: str | None) -> str | None:
    """A batch's Data Docs page under the console, never the path on the server's disk."""
    link = docs_pages.page_link(settings, docs_path)
    return DOCS_URL + link if link else None


@router.get("/quality/docs/{page:path}")
def data_docs(
    request: Request, user: CurrentUser, page: Annotated[str, Path(max_length=300)]
) -> Response:
    """A Data Docs page (a batch's: its provider and stewards; the index: stewards), read
    through ``quality.docs_pages.view_page``. The pages' vendored assets are public files
    mounted at ``/quality/docs/static/vendor`` (``exchange_api.console.install``)."""
    with unit(request) as ctx:
        found = docs_pages.view_page(ctx, path=page, actor=user.actor)
    return HTMLResponse(
        found.read_text(encoding="utf-8"), headers={"Content-Security-Policy": DATA_DOCS_CSP}
    )


def _decided(form: Any, done: str) -> Response:
    back = safe_next(text(form, "back") or "/quality")
    separator = "&" if "?" in back else "?"
    return see_other(f"{back}{separator}done={done}")


@router.post("/quality/batches/{batch_id}/release")
def release(request: Request, user: CurrentUser, form: CheckedForm, batch_id: BatchId) -> Response:
    with unit(request) as ctx:
        gate.release(ctx, batch_id=batch_id, actor=user.actor, reason=text(form, "reason"))
    return _decided(form, "released")


@router.post("/quality/batches/{batch_id}/reject")
def reject(request: Request, user: CurrentUser, form: CheckedForm, batch_id: BatchId) -> Response:
    with unit(request) as ctx:
        gate.reject(ctx, batch_id=batch_id, actor=user.actor, reason=text(form, "reason"))
    return _decided(form, "rejected")
