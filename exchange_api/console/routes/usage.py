"""用数 and audit: a provider sees who called its resources, for which purpose and with what
outcome (chart and tables, from the signed audit log); stewards pick any provider and see the
audit chain's verification state. The role checks are ``exchange_api.audit``'s, shared with
``GET /api/v1/audit/usage`` and ``/audit/verify``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from exchange_api.audit import (
    usage,
    usage_by_purpose,
    usage_provider,
    verify_audit,
    verify_now,
)
from exchange_api.console.routes.common import console_router, department_names, resource_url, unit
from exchange_api.console.web import CurrentUser, allowed, render
from exchange_api.runtime import Exchange

router = console_router()
Department = Annotated[str, Query(max_length=18)]
OUTCOMES = {"allowed": "成功", "denied": "拒绝", "error": "出错"}


@router.get("/usage")
def usage_page(request: Request, user: CurrentUser, department: Department = "") -> HTMLResponse:
    provider = usage_provider(user.actor, department or None)
    exchange: Exchange = request.app.state.exchange
    with unit(request) as ctx:
        rows = usage(ctx.session, provider_code=provider)
        purposes = usage_by_purpose(ctx.session, provider_code=provider)
        names = department_names(request, ctx)
        providers = list(names.items())
        chain = None
        if allowed(verify_audit, user.actor):
            chain = verify_now(ctx.session, exchange.key, exchange.audit.checkpoints, now=ctx.now())
    return render(
        request,
        "usage.html",
        provider=provider,
        rows=rows,
        purposes=purposes,
        names=names,
        providers=providers,
        chain=chain,
        outcomes=OUTCOMES,
        resource_url=resource_url,
    )


@router.get("/usage/chart.json")
def usage_chart(request: Request, user: CurrentUser, department: Department = "") -> JSONResponse:
    """Calls per consumer department, one stacked series per outcome."""
    provider = usage_provider(user.actor, department or None)
    with unit(request) as ctx:
        rows = usage(ctx.session, provider_code=provider)
        names = department_names(request, ctx)
    consumers = sorted({r.department_code for r in rows})
    series = []
    for outcome, label in OUTCOMES.items():
        counts = [
            sum(r.requests for r in rows if r.department_code == c and r.outcome == outcome)
            for c in consumers
        ]
        if any(counts):
            series.append({"name": label, "data": counts})
    return JSONResponse({"categories": [names.get(c, c) for c in consumers], "series": series})
