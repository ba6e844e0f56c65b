"""需求: a department files a demand for a resource's data items and follows it to a grant;
the provider answers it (approve, or refuse with a reason). Rules are ``catalog.demands``'
and ``DemandIn`` / ``DemandDecisionIn``'s, as for the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError as PydanticValidationError

from catalog import auth, demands, grants, services
from catalog.domain import DemandState
from catalog.schemas import DemandDecisionIn, DemandIn
from catalog.views import demand_out, grant_out, resource_out
from exchange_api.console.forms import LABELS, text, texts
from exchange_api.console.routes.common import (
    console_router,
    department_names,
    notice,
    resource_url,
    see_other,
    unit,
)
from exchange_api.console.web import (
    CheckedForm,
    ConsoleUser,
    CurrentUser,
    allowed,
    form_problems,
    render,
)
from infra.errors import GovshareError

router = console_router()
DemandCode = Annotated[str, Path(min_length=1, max_length=40)]
DEMAND_TEXT = ("purpose", "legal_basis", "business_matter", "scenario")


@router.get("/demands")
def demand_list(request: Request, user: CurrentUser) -> HTMLResponse:
    with unit(request) as ctx:
        rows = [demand_out(ctx, d) for d in demands.list_demands(ctx, actor=user.actor)]
        names = department_names(ctx)
    mine = user.actor.department_code
    made = [d for d in rows if user.is_steward or d.requester_code == mine]
    to_answer = [d for d in rows if not user.is_steward and d.provider_code == mine]
    return render(
        request, "demands.html", made=made, to_answer=to_answer, names=names, notice=notice(request)
    )


def _new_page(
    request: Request,
    user: ConsoleUser,
    code: str,
    values: dict[str, Any],
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with unit(request) as ctx:
        resource = resource_out(services.view_resource(ctx, code=code, actor=user.actor))
    return render(
        request,
        "demand_new.html",
        status_code=status_code,
        r=resource,
        values=values,
        errors=errors or [],
        resource_url=resource_url,
    )


@router.get("/demands/new")
def new_demand(
    request: Request,
    user: CurrentUser,
    resource: Annotated[str, Query(min_length=3, max_length=64)],
) -> HTMLResponse:
    return _new_page(request, user, resource, {"wanted_items": []})


@router.post("/demands")
def file_demand(request: Request, user: CurrentUser, form: CheckedForm) -> Response:
    code = text(form, "resource_code")
    values: dict[str, Any] = {name: text(form, name) for name in DEMAND_TEXT}
    values["wanted_items"] = texts(form, "wanted_items")
    try:
        spec = DemandIn(resource_code=code, **values)
        with unit(request) as ctx:
            demand = demands.submit_demand(
                ctx,
                requester_code=user.actor.department_code or "",
                spec=spec,
                actor=user.actor,
            )
            filed = demand.code
    except PydanticValidationError as error:
        problems = form_problems(error, LABELS)
        return _new_page(request, user, code, values, errors=problems, status_code=422)
    except GovshareError as error:
        return _new_page(
            request, user, code, values, errors=[error.message], status_code=error.status_code
        )
    return see_other(f"/demands/{filed}?done=demand")


def _demand_page(
    request: Request,
    user: ConsoleUser,
    code: str,
    *,
    errors: list[str] | None = None,
    reason: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    with unit(request) as ctx:
        demand = demands.view_demand(ctx, code=code, actor=user.actor)
        out = demand_out(ctx, demand)
        can_decide = demand.state is DemandState.PENDING and allowed(
            auth.decide_demand, user.actor, demand
        )
        items = [(i.name, i.sensitivity) for i in demand.resource.items] if demand.resource else []
        names = department_names(ctx)
    return render(
        request,
        "demand.html",
        status_code=status_code,
        d=out,
        names=names,
        can_decide=can_decide,
        items=[i for i in items if i[0] in out.wanted_items],
        errors=errors or [],
        reason=reason,
        notice=notice(request),
        resource_url=resource_url,
    )


@router.get("/demands/{code}")
def demand_page(request: Request, user: CurrentUser, code: DemandCode) -> HTMLResponse:
    return _demand_page(request, user, code)


@router.post("/demands/{code}/decision")
def decide(request: Request, user: CurrentUser, form: CheckedForm, code: DemandCode) -> Response:
    reason = text(form, "reason")
    days = text(form, "valid_days")
    try:
        decision = DemandDecisionIn(
            approve=text(form, "decision") == "approve",
            reason=reason,
            raw_fields=texts(form, "raw_fields"),
            valid_days=int(days) if days.isdigit() else None,
        )
    except PydanticValidationError as error:
        return _demand_page(
            request, user, code, errors=form_problems(error, LABELS), reason=reason, status_code=422
        )
    with unit(request) as ctx:
        demands.decide_demand(ctx, code=code, decision=decision, actor=user.actor)
    return see_other(f"/demands/{code}?done=decided")


@router.get("/grants")
def grant_list(request: Request, user: CurrentUser) -> HTMLResponse:
    with unit(request) as ctx:
        rows = [grant_out(g) for g in grants.list_grants(ctx, actor=user.actor)]
        names = department_names(ctx)
    return render(request, "grants.html", rows=rows, names=names, resource_url=resource_url)
