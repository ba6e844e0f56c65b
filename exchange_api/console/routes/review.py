"""审核: the queues. Resources 待审核 and mounts 挂接待审核 / 变更待审核 are the stewards'
(``auth.review_resource`` / ``auth.review_mount`` refuse anyone else with 403, page or not);
conditional demands routed to my department, with their working-day due date, are each
provider's."""

from __future__ import annotations

from fastapi import Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError as PydanticValidationError

from catalog import demands, services
from catalog.schemas import ReviewIn
from catalog.views import demand_out, mount_out
from exchange_api.console.forms import LABELS, text
from exchange_api.console.routes.common import (
    console_router,
    department_names,
    notice,
    resource_url,
    see_other,
    unit,
)
from exchange_api.console.web import CheckedForm, CurrentUser, form_problems, render

router = console_router()


@router.get("/review")
def review_home(user: CurrentUser) -> Response:
    return see_other("/review/resources" if user.is_steward else "/review/demands")


@router.get("/review/resources")
def resource_queue(request: Request, user: CurrentUser) -> HTMLResponse:
    with unit(request) as ctx:
        pending = services.resources_to_review(ctx, actor=user.actor)
        rows = [(r.code, r.name, r.provider.name, r.state_changed_at) for r in pending]
    return render(
        request,
        "review_resources.html",
        rows=rows,
        notice=notice(request),
        resource_url=resource_url,
    )


def _mount_page(
    request: Request, user: CurrentUser, *, errors: list[str] | None = None, status_code: int = 200
) -> HTMLResponse:
    with unit(request) as ctx:
        rows = [
            (mount_out(m), m.resource.name)
            for m in services.mounts_to_review(ctx, actor=user.actor)
        ]
    return render(
        request,
        "review_mounts.html",
        status_code=status_code,
        rows=rows,
        errors=errors or [],
        notice=notice(request),
        resource_url=resource_url,
    )


@router.get("/review/mounts")
def mount_queue(request: Request, user: CurrentUser) -> HTMLResponse:
    return _mount_page(request, user)


@router.post("/review/mounts/{mount_id}")
def review_mount(
    request: Request, user: CurrentUser, form: CheckedForm, mount_id: int = Path(ge=1, le=2**31 - 1)
) -> Response:
    try:
        decision = ReviewIn(
            approve=text(form, "decision") == "approve", reason=text(form, "reason")
        )
    except PydanticValidationError as error:
        return _mount_page(request, user, errors=form_problems(error, LABELS), status_code=422)
    with unit(request) as ctx:
        services.review_mount(ctx, mount_id=mount_id, review=decision, actor=user.actor)
    return see_other("/review/mounts?done=mount")


@router.get("/review/demands")
def demand_queue(request: Request, user: CurrentUser) -> HTMLResponse:
    with unit(request) as ctx:
        rows = [demand_out(ctx, d) for d in demands.demands_to_answer(ctx, actor=user.actor)]
        names = department_names(request, ctx)
    return render(request, "review_demands.html", rows=rows, names=names, notice=notice(request))
