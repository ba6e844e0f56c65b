"""编目: a provider (or a steward for one) catalogues a resource with its data items.

The form is turned into ``ResourceIn`` and given to ``services.create_resource``: the same
schema and service the API and the workbook import use, so the same rules hold (code format,
共享条件 for 有条件共享, a basis for 不予共享, unique data items, the provider's own duty).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError as PydanticValidationError

from catalog import auth, repository, services
from catalog.domain import (
    DataLevel,
    DataType,
    ResourceClass,
    Sensitivity,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from exchange_api.console.forms import (
    LABELS,
    new_item_rows,
    resource_spec,
    resource_values,
    spec_values,
)
from exchange_api.console.routes.common import (
    console_router,
    department_names,
    resource_url,
    see_other,
    unit,
)
from exchange_api.console.web import CheckedForm, ConsoleUser, CurrentUser, form_problems, render
from infra.errors import GovshareError

router = console_router()
BLANK_ROWS = 3


def _form_page(
    request: Request,
    user: ConsoleUser,
    values: dict[str, Any],
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
    editing: bool = False,
) -> HTMLResponse:
    with unit(request) as ctx:
        if user.is_steward:
            providers = list(department_names(request, ctx).items())
        else:
            own = repository.department(ctx.session, user.actor.department_code or "")
            providers = [(own.code, own.name)]
        duties = [
            (d.code, d.name, d.department.code)
            for d in repository.duties(ctx.session)
            if d.department.code in {code for code, _ in providers}
        ]
    return render(
        request,
        "register.html",
        status_code=status_code,
        editing=editing,
        values=values,
        errors=errors or [],
        providers=providers,
        duties=duties,
        classifications=list(ResourceClass),
        share_types=list(ShareType),
        share_methods=list(ShareMethod),
        cycles=list(UpdateCycle),
        levels=list(DataLevel),
        data_types=list(DataType),
        sensitivities=list(Sensitivity),
    )


@router.get("/register")
def register_page(request: Request, user: CurrentUser) -> HTMLResponse:
    values: dict[str, Any] = {
        "provider_code": user.actor.department_code or "",
        "format": "数据库",
        "items": new_item_rows(BLANK_ROWS),
    }
    return _form_page(request, user, values)


@router.get("/register/item-row")
def item_row(request: Request, user: CurrentUser, index: int = 0) -> HTMLResponse:
    """One more data-item row (htmx appends it to the table)."""
    return render(
        request,
        "_item_row.html",
        i=max(0, min(index, 500)),
        item=new_item_rows(1)[0],
        data_types=list(DataType),
        sensitivities=list(Sensitivity),
    )


@router.post("/register")
def register(request: Request, user: CurrentUser, form: CheckedForm) -> Response:
    values = resource_values(form)
    shown = {**values, "items": values["items"] or new_item_rows(BLANK_ROWS)}
    code = values.get("code") or ""
    try:
        with unit(request) as ctx:
            if code and "/" not in code:
                # Only the 前段码 given: the next free 后段码 under it.
                values["code"] = code = services.next_code(ctx, code)
            spec = resource_spec(values)
            services.create_resource(ctx, spec=spec, actor=user.actor)
    except PydanticValidationError as error:
        return _form_page(
            request, user, shown, errors=form_problems(error, LABELS), status_code=422
        )
    except GovshareError as error:
        return _form_page(
            request, user, shown, errors=[error.message], status_code=error.status_code
        )
    return see_other(resource_url(code, "?done=created"))


@router.get("/register/edit")
def edit_page(
    request: Request, user: CurrentUser, code: Annotated[str, Query(min_length=3, max_length=64)]
) -> HTMLResponse:
    """A draft or returned resource in the form, as its provider would resubmit it."""
    with unit(request) as ctx:
        resource = services.view_resource(ctx, code=code, actor=user.actor)
        auth.update_resource(user.actor, resource)
        values = spec_values(services.resource_spec(resource))
    return _form_page(request, user, values, editing=True)


@router.post("/register/edit")
def save_edit(request: Request, user: CurrentUser, form: CheckedForm) -> Response:
    values = resource_values(form)
    shown = {**values, "items": values["items"] or new_item_rows(BLANK_ROWS)}
    code = values.get("code") or ""
    try:
        spec = resource_spec(values)
        with unit(request) as ctx:
            services.update_resource(ctx, code=code, spec=spec, actor=user.actor)
    except PydanticValidationError as error:
        problems = form_problems(error, LABELS)
        return _form_page(request, user, shown, errors=problems, status_code=422, editing=True)
    except GovshareError as error:
        return _form_page(
            request, user, shown, errors=[error.message], status_code=error.status_code,
            editing=True,
        )  # fmt: skip
    return see_other(resource_url(code, "?done=updated"))
