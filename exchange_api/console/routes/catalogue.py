"""目录: search and browse the catalogue, one resource's page, submitting and reviewing it.

Search and visibility are ``catalog.services``' (a department sees published resources and
its own drafts; another department's draft is a 404, as in the API).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError as PydanticValidationError

from catalog import auth, search, services
from catalog.domain import MountKind, ResourceClass, ResourceState, ShareType
from catalog.errors import NotFound
from catalog.mounts import table_mount
from catalog.schemas import MountIn, ReviewIn
from catalog.views import history_out, resource_out
from catalog.workflow import MOUNT_FLOW, RESOURCE_FLOW, MountAction, ResourceAction
from exchange_api.audit import usage, usage_provider
from exchange_api.console.forms import LABELS, text
from exchange_api.console.history import history_rows, render_history
from exchange_api.console.routes.common import (
    choice,
    console_router,
    department_names,
    notice,
    resource_url,
    see_other,
    unit,
)
from exchange_api.console.routes.usage import OUTCOMES
from exchange_api.console.web import (
    CheckedForm,
    ConsoleUser,
    CurrentUser,
    allowed,
    form_problems,
    render,
)
from exchange_api.lineage import resource_lineage
from infra.errors import GovshareError
from quality import auth as quality_auth

router = console_router()
PAGE = 20

Text = Annotated[str, Query(max_length=200)]
MountId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/catalog")
def catalogue(
    request: Request,
    user: CurrentUser,
    q: Text = "",
    department: Annotated[str, Query(max_length=18)] = "",
    classification: Annotated[str, Query(max_length=10)] = "",
    share_type: Annotated[str, Query(max_length=10)] = "",
    state: Annotated[str, Query(max_length=10)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    filters = search.SearchFilters(
        provider_code=department or None,
        classification=choice(ResourceClass, classification, "信息资源分类"),
        share_type=choice(ShareType, share_type, "共享类型"),
        states=(st,) if (st := choice(ResourceState, state, "目录状态")) else None,
    )
    with unit(request) as ctx:
        found, total = services.search_resources(
            ctx, query=q, filters=filters, actor=user.actor, limit=PAGE, offset=offset
        )
        rows = [resource_out(r, with_mounts=False) for r in found]
        departments = list(department_names(request, ctx).items())
    context: dict[str, Any] = {
        "rows": rows,
        "total": total,
        "offset": offset,
        "page": PAGE,
        "query": {
            "q": q,
            "department": department,
            "classification": classification,
            "share_type": share_type,
            "state": state,
        },
    }
    if (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == "results"
    ):
        return render(request, "_results.html", **context)
    return render(
        request,
        "catalogue.html",
        departments=departments,
        classifications=list(ResourceClass),
        share_types=list(ShareType),
        states=list(ResourceState),
        **context,
    )


def _resource_page(
    request: Request, user: ConsoleUser, code: str, *, errors: list[str] | None = None,
    reason: str = "", status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    with unit(request) as ctx:
        resource = services.view_resource(ctx, code=code, actor=user.actor)
        out = resource_out(resource)
        # What the state machine allows next, and whether the role may do it (catalog.auth).
        next_actions = RESOURCE_FLOW.allowed(resource.state)
        can_submit = ResourceAction.SUBMIT in next_actions and allowed(
            auth.submit_resource, user.actor, resource
        )
        can_edit = resource.state in services.EDITABLE_STATES and allowed(
            auth.update_resource, user.actor, resource
        )
        can_review = ResourceAction.APPROVE in next_actions and allowed(
            auth.review_resource, user.actor
        )
        can_see_quality = allowed(quality_auth.view_report, user.actor, resource)
        can_mount = allowed(auth.add_mount, user.actor, resource)
        # Mounts whose provider may propose a new target or config (变更, reviewed by stewards).
        changeable = {
            m.id: json.dumps(m.config, ensure_ascii=False)
            for m in resource.mounts
            if MountAction.REQUEST_CHANGE in MOUNT_FLOW.allowed(m.state)
            and allowed(auth.request_mount_change, user.actor, resource)
        }
        # A department asks for another's resource; a steward files for a department
        # (whom it names on the form; ``auth.submit_demand`` decides either way).
        can_demand = (
            resource.state is ResourceState.PUBLISHED
            and resource.share_type is not ShareType.NOT_SHARED
            and (user.is_steward or resource.provider.code != user.actor.department_code)
        )
    return render(
        request,
        "resource.html",
        status_code=status_code,
        r=out,
        can_submit=can_submit,
        can_edit=can_edit,
        can_review=can_review,
        can_demand=can_demand,
        can_see_quality=can_see_quality,
        can_mount=can_mount,
        changeable=changeable,
        mount_kinds=list(MountKind),
        errors=errors or [],
        reason=reason,
        notice=notice(request),
        resource_url=resource_url,
    )


@router.post("/catalog/r/{code:path}/submit")
def submit(request: Request, user: CurrentUser, _form: CheckedForm, code: str) -> Response:
    with unit(request) as ctx:
        services.submit_resource(ctx, code=code, actor=user.actor)
    return see_other(resource_url(code, "?done=submitted"))


@router.post("/catalog/r/{code:path}/mounts")
def add_mount(request: Request, user: CurrentUser, form: CheckedForm, code: str) -> Response:
    """挂接: the provider attaches a table, API or file; it goes to the stewards' review."""
    try:
        spec = MountIn.model_validate({"kind": text(form, "kind"), "target": text(form, "target")})
        with unit(request) as ctx:
            services.add_mount(ctx, resource_code=code, spec=spec, actor=user.actor)
    except PydanticValidationError as error:
        problems = form_problems(error, LABELS)
        return _resource_page(request, user, code, errors=problems, status_code=422)
    except GovshareError as error:
        if isinstance(error, NotFound):
            raise
        return _resource_page(
            request, user, code, errors=[error.message], status_code=error.status_code
        )
    return see_other(resource_url(code, "?done=mounted"))


@router.post("/mounts/{mount_id}/change")
def request_mount_change(
    request: Request, user: CurrentUser, form: CheckedForm, mount_id: MountId
) -> Response:
    """变更: the provider proposes a new target or config for a mounted asset (same kind); it
    goes to the stewards' queue as 变更待审核 and the mount serves as before until approved."""
    with unit(request) as ctx:
        mount = services.view_mount(ctx, mount_id=mount_id, actor=user.actor)
        code, kind = mount.resource.code, mount.kind
    raw_config = text(form, "config")
    try:
        config = json.loads(raw_config) if raw_config else {}
        if not isinstance(config, dict):
            raise ValueError("not an object")
    except ValueError:
        problem = '挂接配置须为 JSON 对象，如 {"format": "csv"} (config must be a JSON object)'
        return _resource_page(request, user, code, errors=[problem], status_code=422)
    try:
        spec = MountIn.model_validate(
            {"kind": kind, "target": text(form, "target"), "config": config}
        )
        with unit(request) as ctx:
            services.request_mount_change(ctx, mount_id=mount_id, spec=spec, actor=user.actor)
    except PydanticValidationError as error:
        problems = form_problems(error, LABELS)
        return _resource_page(request, user, code, errors=problems, status_code=422)
    except GovshareError as error:
        return _resource_page(
            request, user, code, errors=[error.message], status_code=error.status_code
        )
    return see_other(resource_url(code, "?done=change_requested"))


@router.post("/catalog/r/{code:path}/review")
def review(request: Request, user: CurrentUser, form: CheckedForm, code: str) -> Response:
    reason = text(form, "reason")
    try:
        decision = ReviewIn(approve=text(form, "decision") == "approve", reason=reason)
    except PydanticValidationError as error:
        return _resource_page(
            request, user, code, errors=form_problems(error, LABELS), reason=reason, status_code=422
        )
    with unit(request) as ctx:
        services.review_resource(ctx, code=code, review=decision, actor=user.actor)
    back = text(form, "back")
    done = "approved" if decision.approve else "returned"
    if back == "queue":
        return see_other(f"/review/resources?done={done}")
    return see_other(resource_url(code, f"?done={done}"))


@router.get("/catalog/r/{code:path}/usage")
def resource_usage(request: Request, user: CurrentUser, code: str) -> HTMLResponse:
    """Who calls this resource (its provider and stewards only: ``audit.usage_provider``)."""
    with unit(request) as ctx:
        resource = services.view_resource(ctx, code=code, actor=user.actor)
        provider = usage_provider(user.actor, resource.provider.code)
        rows = [r for r in usage(ctx.session, provider_code=provider) if r.resource_code == code]
        names = department_names(request, ctx)
    return render(request, "_resource_usage.html", rows=rows, names=names, outcomes=OUTCOMES)


@router.get("/catalog/r/{code:path}/lineage")
def lineage(request: Request, user: CurrentUser, code: str) -> HTMLResponse:
    """Sources → tables → themes of the resource's 库表 mount, from the OpenLineage events."""
    with unit(request) as ctx:
        resource = services.view_resource(ctx, code=code, actor=user.actor)
        mount = table_mount(resource)
        table = mount.target if mount is not None else None
        found = resource_lineage(ctx.settings.lineage_events_path, table) if table else None
    return render(request, "_lineage.html", lineage=found)


@router.get("/catalog/r/{code:path}/history")
def resource_history(request: Request, user: CurrentUser, code: str) -> HTMLResponse:
    """The change history, fetched by the resource page after it shows (htmx): the page
    itself answers about as fast as the API's resource call (``bench/console.py``)."""
    with unit(request) as ctx:
        entries = services.resource_history(ctx, code=code, actor=user.actor)
        rows = history_rows([history_out(h) for h in entries], department_names(request, ctx))
    return render_history(
        request, rows, title=f"信息资源 {code} 的变更历史", back_url=resource_url(code),
        back_label="返回信息资源",
    )  # fmt: skip


@router.get("/mounts/{mount_id}/history")
def mount_history(request: Request, user: CurrentUser, mount_id: MountId) -> HTMLResponse:
    """A mount's history: seen by whoever may see its resource (``auth.view_mount``)."""
    with unit(request) as ctx:
        code = services.view_mount(ctx, mount_id=mount_id, actor=user.actor).resource.code
        entries = services.mount_history(ctx, mount_id=mount_id, actor=user.actor)
        rows = history_rows([history_out(h) for h in entries], department_names(request, ctx))
    return render_history(
        request, rows, title=f"挂接 {mount_id}（{code}）的变更历史", back_url=resource_url(code),
        back_label="返回信息资源",
    )  # fmt: skip


@router.get("/catalog/r/{code:path}")
def resource_page(request: Request, user: CurrentUser, code: str) -> HTMLResponse:
    return _resource_page(request, user, code)
