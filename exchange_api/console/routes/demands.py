"""需求: a department files a demand for a resource's data items and follows it to a grant;
the provider answers it (approve, or refuse with a reason). Rules are ``catalog.demands``'
and ``DemandIn`` / ``DemandDecisionIn``'s, as for the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError as PydanticValidationError

from catalog import auth, demands, grants, services
from catalog.context import CatalogContext
from catalog.schemas import DemandDecisionIn, DemandIn, GrantOut, GrantRevokeIn
from catalog.views import demand_out, grant_out, history_out, resource_out
from catalog.workflow import DEMAND_FLOW, DemandAction
from exchange_api.console.forms import LABELS, text, texts
from exchange_api.console.history import history_rows, render_history
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
from infra.errors import GovshareError, ValidationError

router = console_router()
DemandCode = Annotated[str, Path(min_length=1, max_length=40)]
GrantId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DEMAND_TEXT = ("purpose", "legal_basis", "business_matter", "scenario")


@router.get("/demands")
def demand_list(request: Request, user: CurrentUser) -> HTMLResponse:
    with unit(request) as ctx:
        rows = [demand_out(ctx, d) for d in demands.list_demands(ctx, actor=user.actor)]
        names = department_names(request, ctx)
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
        # Whom a steward may file for: any department but the provider.
        departments = [
            (dept, name)
            for dept, name in department_names(request, ctx).items()
            if dept != resource.provider_code
        ]
    return render(
        request,
        "demand_new.html",
        status_code=status_code,
        r=resource,
        departments=departments,
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
    # A steward names the department it files for; a department always files for itself.
    requester = text(form, "requester_code") if user.is_steward else ""
    spec_values = dict(values)
    values["requester_code"] = requester
    try:
        if user.is_steward and not requester:
            raise ValidationError("请选择需求部门 (choose the department the demand is for)")
        spec = DemandIn(resource_code=code, **spec_values)
        with unit(request) as ctx:
            demand = demands.submit_demand(
                ctx,
                requester_code=requester or user.actor.department_code or "",
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
        next_actions = DEMAND_FLOW.allowed(demand.state)
        can_decide = DemandAction.APPROVE in next_actions and allowed(
            auth.decide_demand, user.actor, demand
        )
        can_withdraw = DemandAction.WITHDRAW in next_actions and allowed(
            auth.withdraw_demand, user.actor, demand
        )
        can_assign = DemandAction.ASSIGN in next_actions and allowed(auth.assign_demand, user.actor)
        items = [(i.name, i.sensitivity) for i in demand.resource.items] if demand.resource else []
        names = department_names(request, ctx)
    return render(
        request,
        "demand.html",
        status_code=status_code,
        d=out,
        names=names,
        can_decide=can_decide,
        can_withdraw=can_withdraw,
        can_assign=can_assign,
        items=[i for i in items if i[0] in out.wanted_items],
        errors=errors or [],
        reason=reason,
        notice=notice(request),
        resource_url=resource_url,
    )


@router.get("/demands/{code}")
def demand_page(request: Request, user: CurrentUser, code: DemandCode) -> HTMLResponse:
    return _demand_page(request, user, code)


@router.get("/demands/{code}/history")
def demand_history(request: Request, user: CurrentUser, code: DemandCode) -> HTMLResponse:
    """Loaded by the demand page (htmx); its parties and stewards only (``auth.view_demand``)."""
    with unit(request) as ctx:
        entries = demands.demand_history(ctx, code=code, actor=user.actor)
        rows = history_rows([history_out(h) for h in entries], department_names(request, ctx))
    return render_history(
        request, rows, title=f"需求 {code} 的变更历史", back_url=f"/demands/{code}",
        back_label="返回需求",
    )  # fmt: skip


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


@router.post("/demands/{code}/assign")
def assign(request: Request, user: CurrentUser, form: CheckedForm, code: DemandCode) -> Response:
    """A steward names the responsible department of a demand nobody is responsible for."""
    with unit(request) as ctx:
        demands.assign_demand(
            ctx, code=code, provider_code=text(form, "provider_code"), actor=user.actor
        )
    return see_other(f"/demands/{code}?done=assigned")


@router.post("/demands/{code}/withdraw")
def withdraw(request: Request, user: CurrentUser, _form: CheckedForm, code: DemandCode) -> Response:
    with unit(request) as ctx:
        demands.withdraw_demand(ctx, code=code, actor=user.actor)
    return see_other(f"/demands/{code}?done=withdrawn")


def _grant_rows(ctx: CatalogContext, user: ConsoleUser) -> list[tuple[GrantOut, bool]]:
    """Each grant the actor may see, and whether ``auth.revoke_grant`` lets it take it back."""
    return [
        (grant_out(g), g.revoked_at is None and allowed(auth.revoke_grant, user.actor, g))
        for g in grants.list_grants(ctx, actor=user.actor)
    ]


@router.get("/grants")
def grant_list(request: Request, user: CurrentUser) -> HTMLResponse:
    with unit(request) as ctx:
        rows = _grant_rows(ctx, user)
        names = department_names(request, ctx)
    return render(
        request,
        "grants.html",
        rows=rows,
        names=names,
        resource_url=resource_url,
        errors=[],
        notice=notice(request),
    )


@router.get("/grants/{grant_id}/history")
def grant_history(request: Request, user: CurrentUser, grant_id: GrantId) -> HTMLResponse:
    """The parties to a grant and stewards (``auth.view_grant``)."""
    with unit(request) as ctx:
        entries = grants.grant_history(ctx, grant_id=grant_id, actor=user.actor)
        rows = history_rows([history_out(h) for h in entries], department_names(request, ctx))
    return render_history(
        request, rows, title=f"授权 {grant_id} 的变更历史", back_url="/grants",
        back_label="返回授权列表",
    )  # fmt: skip


@router.post("/grants/{grant_id}/revoke")
def revoke(
    request: Request,
    user: CurrentUser,
    form: CheckedForm,
    grant_id: GrantId,
) -> Response:
    """The provider or a steward takes a grant back, with a reason (effective next call)."""
    reason = text(form, "reason")
    try:
        body = GrantRevokeIn(reason=reason)
    except PydanticValidationError as error:
        with unit(request) as ctx:
            rows = _grant_rows(ctx, user)
            names = department_names(request, ctx)
        return render(
            request,
            "grants.html",
            status_code=422,
            rows=rows,
            names=names,
            resource_url=resource_url,
            errors=form_problems(error, LABELS),
            notice=None,
        )
    with unit(request) as ctx:
        grants.revoke_grant(ctx, grant_id=grant_id, reason=body.reason, actor=user.actor)
    return see_other("/grants?done=revoked")
