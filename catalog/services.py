"""Catalogue operations: departments, duties, resources and mounts.

Every operation a person triggers checks authorisation first (``catalog.auth``, same name),
moves state only through the workflow tables, and writes a history entry with the state
before and after, so any change can be traced to who made it and when.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from catalog import auth, repository, search
from catalog.context import Actor, CatalogContext
from catalog.domain import MountKind, MountState, ResourceClass, ResourceState
from catalog.errors import Conflict, NotAuthorized, ValidationError
from catalog.history import record
from catalog.models import (
    DataItem,
    Department,
    Duty,
    HistoryEntry,
    Mount,
    Resource,
    ResourceVersion,
)
from catalog.mount_config import check_mount
from catalog.safeguards import LAKE_KINDS, effective_sensitivity, mount_target_problem
from catalog.schemas import DataItemIn, DepartmentIn, DutyIn, MountIn, ResourceIn, ReviewIn
from catalog.workflow import MOUNT_FLOW, RESOURCE_FLOW, MountAction, ResourceAction

EDITABLE_STATES = (ResourceState.DRAFT, ResourceState.RETURNED)

# The scalar metadata a provider writes; the same list is copied from specs and snapshotted.
CONTENT_FIELDS = (
    "code",
    "name",
    "classification",
    "category",
    "summary",
    "format",
    "share_type",
    "share_condition",
    "not_shared_basis",
    "share_method",
    "open_to_public",
    "open_condition",
    "update_cycle",
    "publish_date",
    "business_matter",
    "scenario",
    "data_level",
)


# ---- history ---------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def resource_snapshot(resource: Resource) -> dict[str, Any]:
    """Everything a version of a resource says, in JSON-friendly form."""
    columns = (*CONTENT_FIELDS, "related_codes", "state", "version")
    snapshot: dict[str, Any] = {c: _jsonable(getattr(resource, c)) for c in columns}
    snapshot = {k: (str(v) if hasattr(v, "value") else v) for k, v in snapshot.items()}
    snapshot["provider_code"] = resource.provider.code
    snapshot["duty_code"] = resource.duty.code if resource.duty else None
    snapshot["items"] = [
        {
            "name": i.name,
            "data_type": str(i.data_type),
            "length": i.length,
            "required": i.required,
            "is_key": i.is_key,
            "sensitivity": str(i.sensitivity),
            "mask_kind": i.mask_kind,
            "authoritative": i.authoritative,
            "description": i.description,
        }
        for i in resource.items
    ]
    return snapshot


def mount_snapshot(mount: Mount) -> dict[str, Any]:
    return {
        "kind": str(mount.kind),
        "target": mount.target,
        "config": mount.config,
        "state": str(mount.state),
        "pending_target": mount.pending_target,
        "pending_config": mount.pending_config,
        "last_refreshed_at": _jsonable(mount.last_refreshed_at),
    }


# ---- departments and duties ------------------------------------------------------------


def register_department(ctx: CatalogContext, *, spec: DepartmentIn, actor: Actor) -> Department:
    auth.register_department(actor)
    if repository.department_or_none(ctx.session, spec.code):
        raise Conflict(f"部门已登记 (department exists) {spec.code}")
    parent = repository.department(ctx.session, spec.parent_code) if spec.parent_code else None
    department = Department(
        code=spec.code,
        name=spec.name,
        short_name=spec.short_name,
        region_code=spec.region_code,
        parent=parent,
        is_data_authority=spec.is_data_authority,
    )
    ctx.session.add(department)
    ctx.session.flush()
    record(
        ctx,
        entity="department",
        entity_id=department.id,
        action="登记",
        actor=actor,
        before=None,
        after=spec.model_dump(mode="json"),
    )
    return department


def add_duty(ctx: CatalogContext, *, spec: DutyIn, actor: Actor) -> Duty:
    department = repository.department(ctx.session, spec.department_code)
    auth.add_duty(actor, department)
    if repository.duty_or_none(ctx.session, spec.code):
        raise Conflict(f"职责编码已存在 (duty exists) {spec.code}")
    duty = Duty(
        code=spec.code,
        department=department,
        name=spec.name,
        description=spec.description,
        data_items=list(dict.fromkeys(spec.data_items)),
    )
    ctx.session.add(duty)
    ctx.session.flush()
    record(
        ctx,
        entity="duty",
        entity_id=duty.id,
        action="登记",
        actor=actor,
        before=None,
        after=spec.model_dump(mode="json"),
    )
    return duty


# ---- resources -------------------------------------------------------------------------


def check_code(ctx: CatalogContext, code: str) -> None:
    """信息资源代码 is 前段码/后段码 with the widths this province configured."""
    s = ctx.settings
    pattern = (
        rf"[0-9A-Z][0-9A-Z.\-]{{{s.code_prefix_min - 1},{s.code_prefix_max - 1}}}"
        rf"/\d{{{s.code_sequence_width}}}"
    )
    if not re.fullmatch(pattern, code):
        raise ValidationError(
            f"信息资源代码格式错误 (bad resource code) '{code}': 应为前段码/后段码，"
            f"前段码 {s.code_prefix_min}-{s.code_prefix_max} 位，"
            f"后段码 {s.code_sequence_width} 位数字"
        )


def next_code(ctx: CatalogContext, prefix: str) -> str:
    """The next free sequence number under a classification prefix."""
    taken = repository.codes_with_prefix(ctx.session, prefix + "/")
    numbers = [int(c.split("/", 1)[1]) for c in taken if c.split("/", 1)[1].isdigit()]
    return f"{prefix}/{max(numbers, default=0) + 1:0{ctx.settings.code_sequence_width}d}"


def _items(specs: list[DataItemIn]) -> list[DataItem]:
    """Data items as declared, except that a name showing personal data makes them personal."""
    items = []
    for position, spec in enumerate(specs):
        values = spec.model_dump()
        values["sensitivity"], values["mask_kind"] = effective_sensitivity(
            spec.name, spec.sensitivity, spec.mask_kind
        )
        items.append(DataItem(position=position, **values))
    return items


def _apply(ctx: CatalogContext, resource: Resource, spec: ResourceIn) -> None:
    """Copy a spec's content onto a resource, resolving its references."""
    check_code(ctx, spec.code)
    resource.provider = repository.department(ctx.session, spec.provider_code)
    resource.duty = repository.duty(ctx.session, spec.duty_code) if spec.duty_code else None
    if resource.duty is not None and resource.duty.department_id != resource.provider.id:
        raise ValidationError(
            f"职责 {spec.duty_code} 不属于提供方 (duty belongs to another department)"
        )
    for name in CONTENT_FIELDS:
        setattr(resource, name, getattr(spec, name))
    resource.related_codes = list(spec.related_codes)
    if resource.items:
        # Old rows must be gone before new ones with the same names are inserted.
        resource.items.clear()
        ctx.session.flush()
    resource.items = _items(spec.items)


def _new_version(ctx: CatalogContext, resource: Resource, actor: Actor) -> None:
    ctx.session.flush()
    ctx.session.add(
        ResourceVersion(
            resource_id=resource.id,
            version=resource.version,
            snapshot=resource_snapshot(resource),
            actor=actor.name,
            created_at=ctx.now(),
        )
    )


def create_resource(
    ctx: CatalogContext,
    *,
    spec: ResourceIn,
    actor: Actor,
    state: ResourceState = ResourceState.DRAFT,
) -> Resource:
    """Catalogue a new resource; a state other than 待提交 is for stewards migrating one."""
    provider = repository.department(ctx.session, spec.provider_code)
    auth.create_resource(actor, provider)
    if state is not ResourceState.DRAFT:
        auth.review_resource(actor)
    if repository.resource_or_none(ctx.session, spec.code):
        raise Conflict(f"信息资源代码已存在 (resource exists) {spec.code}")
    now = ctx.now()
    resource = Resource(
        state=state, state_changed_at=now, version=1, created_at=now, updated_at=now
    )
    _apply(ctx, resource, spec)
    ctx.session.add(resource)
    _new_version(ctx, resource, actor)
    record(
        ctx,
        entity="resource",
        entity_id=resource.id,
        action="编目",
        actor=actor,
        before=None,
        after=resource_snapshot(resource),
    )
    return resource


def update_resource(ctx: CatalogContext, *, code: str, spec: ResourceIn, actor: Actor) -> Resource:
    """Edit a draft or returned resource; published ones change through a new version cycle."""
    resource = view_resource(ctx, code=code, actor=actor)
    auth.update_resource(actor, resource)
    if resource.state not in EDITABLE_STATES:
        raise Conflict(
            f"信息资源 {code} 当前状态为「{resource.state}」，只有待提交或已退回的目录可以修改"
        )
    if spec.code != code:
        raise ValidationError("信息资源代码不可修改 (a resource code never changes)")
    before = resource_snapshot(resource)
    _apply(ctx, resource, spec)
    resource.version += 1
    resource.updated_at = ctx.now()
    _new_version(ctx, resource, actor)
    record(
        ctx,
        entity="resource",
        entity_id=resource.id,
        action="修改",
        actor=actor,
        before=before,
        after=resource_snapshot(resource),
    )
    return resource


def resource_spec(resource: Resource) -> ResourceIn:
    """The spec that writes ``resource`` as it is now: what its provider would resubmit."""
    snapshot = resource_snapshot(resource)
    return ResourceIn.model_validate({k: snapshot[k] for k in ResourceIn.model_fields})


def _comparable(spec: ResourceIn) -> dict[str, Any]:
    """A spec as it would be stored: personal-data names raise an item's sensitivity."""
    out = spec.model_dump(mode="json")
    for item, given in zip(out["items"], spec.items, strict=True):
        sensitivity, item["mask_kind"] = effective_sensitivity(
            given.name, given.sensitivity, given.mask_kind
        )
        item["sensitivity"] = str(sensitivity)
    return out


def resource_changes(resource: Resource, spec: ResourceIn) -> list[dict[str, Any]]:
    """What writing ``spec`` would change, field by field: ``{field, before, after}``.

    Data items are compared by name (``items.<name>.<field>``; an added or removed item is
    ``items.<name>`` with ``before`` or ``after`` empty), so a steward sees which item moved.
    """
    before, after = _comparable(resource_spec(resource)), _comparable(spec)
    changes = [
        {"field": name, "before": before[name], "after": after[name]}
        for name in ResourceIn.model_fields
        if name != "items" and before[name] != after[name]
    ]
    old = {i["name"]: i for i in before["items"]}
    new = {i["name"]: i for i in after["items"]}
    for name in dict.fromkeys([*old, *new]):
        if name not in new or name not in old:
            changes.append(
                {"field": f"items.{name}", "before": old.get(name), "after": new.get(name)}
            )
            continue
        changes.extend(
            {"field": f"items.{name}.{key}", "before": old[name][key], "after": new[name][key]}
            for key in new[name]
            if old[name][key] != new[name][key]
        )
    if not changes and list(old) != list(new):
        changes.append({"field": "items", "before": list(old), "after": list(new)})  # order
    return changes


def revise_resource(ctx: CatalogContext, *, code: str, spec: ResourceIn, actor: Actor) -> Resource:
    """Change a catalogued resource the way its state allows.

    A draft or returned resource is edited in place (:func:`update_resource`). A published one
    gets a proposed next version (申请变更) that a steward approves or returns with
    :func:`review_revision`; until then the published version is the one in force, so data
    keeps being shared while its description is reviewed. Any other state refuses.
    """
    resource = view_resource(ctx, code=code, actor=actor)
    if resource.state in EDITABLE_STATES:
        return update_resource(ctx, code=code, spec=spec, actor=actor)
    auth.update_resource(actor, resource)
    if spec.code != code:
        raise ValidationError("信息资源代码不可修改 (a resource code never changes)")
    if spec.provider_code != resource.provider.code:
        raise ValidationError(
            f"信息资源 {code} 已发布，提供方不能通过变更修改 "
            "(a published resource keeps its provider)"
        )
    if spec.publish_date is None and resource.publish_date is not None:
        # Set when it was published: a change that leaves 发布日期 blank keeps it.
        spec = spec.model_copy(update={"publish_date": resource.publish_date})
    check_code(ctx, spec.code)
    duty = repository.duty(ctx.session, spec.duty_code) if spec.duty_code else None
    if duty is not None and duty.department_id != resource.provider_id:
        raise ValidationError(
            f"职责 {spec.duty_code} 不属于提供方 (duty belongs to another department)"
        )
    changes = resource_changes(resource, spec)
    if not changes or resource.pending_revision == spec.model_dump(mode="json"):
        return resource  # nothing to change, or exactly this change is already under review
    state = RESOURCE_FLOW.next_state(resource.state, ResourceAction.REQUEST_CHANGE, ref=code)
    resource.pending_revision = spec.model_dump(mode="json")
    record(
        ctx,
        entity="resource",
        entity_id=resource.id,
        action=str(ResourceAction.REQUEST_CHANGE),
        actor=actor,
        before={"state": str(resource.state), "version": resource.version},
        after={
            "state": str(state),
            "version": resource.version,
            "proposed_version": resource.version + 1,
            "changes": changes,
        },
    )
    return resource


def review_revision(ctx: CatalogContext, *, code: str, review: ReviewIn, actor: Actor) -> Resource:
    """A steward approves a published resource's proposed change (it becomes the next
    version, snapshotted like any other) or returns it with a reason (the proposal is dropped
    and the published version stays as it was)."""
    auth.review_resource(actor)
    resource = repository.resource(ctx.session, code)
    if resource.pending_revision is None:
        raise Conflict(f"信息资源 {code} 没有待审核的变更 (no change pending review)")
    action = ResourceAction.APPROVE_CHANGE if review.approve else ResourceAction.RETURN_CHANGE
    resource.state = RESOURCE_FLOW.next_state(resource.state, action, ref=code)
    spec = ResourceIn.model_validate(resource.pending_revision)
    before = resource_snapshot(resource)
    resource.pending_revision = None
    if review.approve:
        _apply(ctx, resource, spec)
        resource.version += 1
        resource.updated_at = ctx.now()
        _new_version(ctx, resource, actor)
    after = resource_snapshot(resource)
    if review.reason:
        after["note"] = review.reason
    record(
        ctx,
        entity="resource",
        entity_id=resource.id,
        action=str(action),
        actor=actor,
        before=before,
        after=after,
    )
    return resource


def _move_resource(
    ctx: CatalogContext, resource: Resource, action: ResourceAction, actor: Actor, note: str = ""
) -> Resource:
    before = {"state": str(resource.state), "version": resource.version}
    resource.state = RESOURCE_FLOW.next_state(resource.state, action, ref=resource.code)
    resource.state_changed_at = ctx.now()
    if resource.state is ResourceState.PUBLISHED and resource.publish_date is None:
        resource.publish_date = ctx.today()
    after: dict[str, Any] = {"state": str(resource.state), "version": resource.version}
    if note:
        after["note"] = note
    record(
        ctx,
        entity="resource",
        entity_id=resource.id,
        action=str(action),
        actor=actor,
        before=before,
        after=after,
    )
    return resource


def submit_resource(ctx: CatalogContext, *, code: str, actor: Actor) -> Resource:
    resource = view_resource(ctx, code=code, actor=actor)
    auth.submit_resource(actor, resource)
    return _move_resource(ctx, resource, ResourceAction.SUBMIT, actor)


def review_resource(ctx: CatalogContext, *, code: str, review: ReviewIn, actor: Actor) -> Resource:
    auth.review_resource(actor)
    resource = repository.resource(ctx.session, code)
    action = ResourceAction.APPROVE if review.approve else ResourceAction.RETURN
    return _move_resource(ctx, resource, action, actor, review.reason)


def request_offline(ctx: CatalogContext, *, code: str, reason: str, actor: Actor) -> Resource:
    resource = view_resource(ctx, code=code, actor=actor)
    auth.request_offline(actor, resource)
    if not reason.strip():
        raise ValidationError("申请下线必须说明理由 (a reason is required)")
    return _move_resource(ctx, resource, ResourceAction.REQUEST_OFFLINE, actor, reason)


def decide_offline(ctx: CatalogContext, *, code: str, confirm: bool, actor: Actor) -> Resource:
    auth.decide_offline(actor)
    resource = repository.resource(ctx.session, code)
    action = ResourceAction.CONFIRM_OFFLINE if confirm else ResourceAction.CANCEL_OFFLINE
    return _move_resource(ctx, resource, action, actor)


def view_resource(ctx: CatalogContext, *, code: str, actor: Actor) -> Resource:
    """A resource as ``actor`` may see it: unpublished ones only by their provider/stewards."""
    resource = repository.resource(ctx.session, code)
    auth.view_resource(actor, resource)
    return resource


def search_resources(
    ctx: CatalogContext,
    *,
    query: str,
    filters: search.SearchFilters,
    actor: Actor,
    limit: int,
    offset: int = 0,
) -> tuple[list[Resource], int]:
    """Catalogue search; a department finds published resources and its own unpublished ones."""
    if not actor.is_steward:
        own = repository.department_or_none(ctx.session, actor.department_code or "")
        filters = replace(
            filters,
            visible_states=auth.PUBLIC_STATES,
            viewer_provider_id=own.id if own is not None else None,
        )
    return search.search(ctx.session, query, filters=filters, limit=limit, offset=offset)


def resources_to_review(ctx: CatalogContext, *, actor: Actor) -> list[Resource]:
    """The stewards' queue: resources 待审核, oldest first (only those who may review see it)."""
    auth.review_resource(actor)
    pending = repository.resources(ctx.session, states=[ResourceState.PENDING])
    return sorted(pending, key=lambda r: (r.state_changed_at, r.code))


def mounts_to_review(ctx: CatalogContext, *, actor: Actor) -> list[Mount]:
    """The stewards' queue of mounts 挂接待审核 and changes 变更待审核."""
    auth.review_mount(actor)
    return list(
        repository.mounts(ctx.session, states=[MountState.PENDING, MountState.CHANGE_PENDING])
    )


def resource_versions(ctx: CatalogContext, *, code: str, actor: Actor) -> list[ResourceVersion]:
    resource = view_resource(ctx, code=code, actor=actor)
    return list(repository.versions(ctx.session, resource.id))


def resource_history(ctx: CatalogContext, *, code: str, actor: Actor) -> list[HistoryEntry]:
    """Who changed a resource and how, oldest first (the catalogue's change log is shared)."""
    resource = view_resource(ctx, code=code, actor=actor)
    return list(repository.history(ctx.session, entity="resource", entity_id=resource.id))


def view_mount(ctx: CatalogContext, *, mount_id: int, actor: Actor) -> Mount:
    mount = repository.mount(ctx.session, mount_id)
    auth.view_mount(actor, mount)
    return mount


def mount_history(ctx: CatalogContext, *, mount_id: int, actor: Actor) -> list[HistoryEntry]:
    """Who registered, changed, reviewed and refreshed a mount, oldest first."""
    mount = view_mount(ctx, mount_id=mount_id, actor=actor)
    return list(repository.history(ctx.session, entity="mount", entity_id=mount.id))


# ---- mounts (能力清单) ------------------------------------------------------------------


def _move_mount(
    ctx: CatalogContext,
    mount: Mount,
    action: MountAction,
    actor: Actor,
    note: str = "",
    *,
    before: dict[str, Any] | None = None,
) -> Mount:
    """Move a mount's state and record it; ``before`` is the snapshot taken before a caller
    changed the mount's other fields (target, config) for the same step."""
    before = before or mount_snapshot(mount)
    mount.state = MOUNT_FLOW.next_state(mount.state, action, ref=f"#{mount.id}")
    mount.state_changed_at = ctx.now()
    if note:
        mount.review_note = note
    record(
        ctx,
        entity="mount",
        entity_id=mount.id,
        action=str(action),
        actor=actor,
        before=before,
        after=mount_snapshot(mount),
    )
    return mount


def check_mount_target(
    ctx: CatalogContext, *, resource: Resource, kind: MountKind, target: str
) -> None:
    """A lake mount names a table of the provider's own layer, never a path or another's table.

    A 主题 resource reads the themes layer, which only the data authority builds; any other
    resource reads ``validated/<target>``, and a table another department already mounts is
    that department's data, whatever this provider calls it.
    """
    theme = resource.classification is ResourceClass.THEME
    problem = mount_target_problem(kind=kind, target=target, theme=theme)
    if problem:
        raise ValidationError(
            problem, details=[{"field": "target", "reason": problem, "location": "body"}]
        )
    if kind not in LAKE_KINDS:
        return
    if theme and not resource.provider.is_data_authority:
        raise NotAuthorized(
            "只有数据管理机构可以挂接主题库表 (only the data authority mounts theme tables)"
        )
    others = set(repository.table_claimants(ctx.session, target=target)) - {resource.provider_id}
    if others:
        raise Conflict(
            "挂接目标是其他部门的数据表，不能挂接 (the table belongs to another department)"
        )


def add_mount(
    ctx: CatalogContext, *, resource_code: str, spec: MountIn, actor: Actor, submit: bool = True
) -> Mount:
    """Attach an asset to a resource; by default it goes straight to review (挂接待审核)."""
    resource = view_resource(ctx, code=resource_code, actor=actor)
    auth.add_mount(actor, resource)
    check_mount_target(ctx, resource=resource, kind=spec.kind, target=spec.target)
    if resource.state in (ResourceState.RETIRING, ResourceState.RETIRED):
        raise Conflict(f"信息资源 {resource_code} 已申请下线，不能挂接 (resource is going offline)")
    check_mount(kind=spec.kind, config=spec.config, resource=resource)
    now = ctx.now()
    mount = Mount(
        resource=resource,
        kind=spec.kind,
        target=spec.target,
        config=spec.config,
        state=MountState.UNMOUNTED,
        state_changed_at=now,
        created_at=now,
    )
    ctx.session.add(mount)
    ctx.session.flush()
    record(
        ctx,
        entity="mount",
        entity_id=mount.id,
        action="登记挂接",
        actor=actor,
        before=None,
        after=mount_snapshot(mount),
    )
    if submit:
        _move_mount(ctx, mount, MountAction.SUBMIT, actor)
    return mount


def submit_mount(ctx: CatalogContext, *, mount_id: int, actor: Actor) -> Mount:
    mount = repository.mount(ctx.session, mount_id)
    auth.add_mount(actor, mount.resource)
    return _move_mount(ctx, mount, MountAction.SUBMIT, actor)


def review_mount(ctx: CatalogContext, *, mount_id: int, review: ReviewIn, actor: Actor) -> Mount:
    """Approve or return a mount, or a pending change of a mounted one."""
    auth.review_mount(actor)
    mount = repository.mount(ctx.session, mount_id)
    before = mount_snapshot(mount)
    if review.approve:
        # Re-checked at approval: a row written before the rules (or around them) is not waved on.
        target = mount.pending_target or mount.target
        check_mount_target(ctx, resource=mount.resource, kind=mount.kind, target=target)
    if mount.state is MountState.CHANGE_PENDING:
        if review.approve:
            mount.target = mount.pending_target or mount.target
            mount.config = mount.pending_config or mount.config
        mount.pending_target, mount.pending_config = None, None
        action = MountAction.APPROVE_CHANGE if review.approve else MountAction.RETURN_CHANGE
    else:
        action = MountAction.APPROVE if review.approve else MountAction.RETURN
    _move_mount(ctx, mount, action, actor, review.reason, before=before)
    if mount.state is MountState.MOUNTED:
        # A new capability may answer demands that were waiting for one.
        from catalog.demands import reroute_waiting

        reroute_waiting(ctx, provider_id=mount.resource.provider_id, actor=actor)
    return mount


def request_mount_change(
    ctx: CatalogContext, *, mount_id: int, spec: MountIn, actor: Actor
) -> Mount:
    mount = repository.mount(ctx.session, mount_id)
    auth.request_mount_change(actor, mount.resource)
    if spec.kind != mount.kind:
        raise ValidationError("变更不能改变挂接类型 (a change keeps the mount kind)")
    check_mount_target(ctx, resource=mount.resource, kind=spec.kind, target=spec.target)
    check_mount(kind=spec.kind, config=spec.config, resource=mount.resource)
    before = mount_snapshot(mount)
    mount.pending_target, mount.pending_config = spec.target, spec.config
    return _move_mount(ctx, mount, MountAction.REQUEST_CHANGE, actor, before=before)


def record_refresh(ctx: CatalogContext, *, mount_id: int, at: datetime, actor: Actor) -> Mount:
    """Data landed through this mount: its freshness moves forward (never backward)."""
    mount = repository.mount(ctx.session, mount_id)
    auth.record_refresh(actor, mount.resource)
    if mount.last_refreshed_at is None or at > mount.last_refreshed_at:
        mount.last_refreshed_at = at
    return mount
