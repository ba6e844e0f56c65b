"""Public shapes of catalogue objects: what the API, the CLI and exports show.

Converting here keeps ORM rows from leaking past the service layer.
"""

from __future__ import annotations

from catalog.context import CatalogContext
from catalog.models import ApiKey, Demand, Department, Duty, Grant, HistoryEntry, Mount, Resource
from catalog.schemas import (
    ApiKeyOut,
    DataItemOut,
    DemandOut,
    DepartmentOut,
    DutyOut,
    GrantOut,
    HistoryOut,
    MountOut,
    ResourceOut,
)
from catalog.workdays_notices import demand_deadline, is_overdue


def department_out(department: Department) -> DepartmentOut:
    return DepartmentOut(
        code=department.code,
        name=department.name,
        short_name=department.short_name,
        region_code=department.region_code,
        parent_code=department.parent.code if department.parent else None,
        is_data_authority=department.is_data_authority,
    )


def duty_out(duty: Duty) -> DutyOut:
    return DutyOut(
        code=duty.code,
        department_code=duty.department.code,
        name=duty.name,
        description=duty.description,
        data_items=list(duty.data_items),
    )


def mount_out(mount: Mount) -> MountOut:
    return MountOut(
        id=mount.id,
        resource_code=mount.resource.code,
        kind=mount.kind,
        target=mount.target,
        config=mount.config,
        state=mount.state,
        pending_target=mount.pending_target,
        pending_config=mount.pending_config,
        last_refreshed_at=mount.last_refreshed_at,
        review_note=mount.review_note,
    )


def resource_out(resource: Resource, *, with_mounts: bool = True) -> ResourceOut:
    return ResourceOut(
        code=resource.code,
        name=resource.name,
        classification=resource.classification,
        category=resource.category,
        provider_code=resource.provider.code,
        provider_name=resource.provider.name,
        summary=resource.summary,
        format=resource.format,
        share_type=resource.share_type,
        share_condition=resource.share_condition,
        not_shared_basis=resource.not_shared_basis,
        share_method=resource.share_method,
        open_to_public=resource.open_to_public,
        open_condition=resource.open_condition,
        update_cycle=resource.update_cycle,
        publish_date=resource.publish_date,
        related_codes=list(resource.related_codes),
        duty_code=resource.duty.code if resource.duty else None,
        business_matter=resource.business_matter,
        scenario=resource.scenario,
        data_level=resource.data_level,
        state=resource.state,
        version=resource.version,
        items=[DataItemOut.model_validate(item) for item in resource.items],
        mounts=[mount_out(m) for m in resource.mounts] if with_mounts else [],
    )


def grant_out(grant: Grant) -> GrantOut:
    return GrantOut(
        id=grant.id,
        department_code=grant.department.code,
        resource_code=grant.resource.code,
        fields=grant.fields,
        purpose=grant.purpose,
        expires_at=grant.expires_at,
        rate_limit_per_minute=grant.rate_limit_per_minute,
        revoked_at=grant.revoked_at,
        revoke_reason=grant.revoke_reason,
    )


def demand_out(ctx: CatalogContext, demand: Demand) -> DemandOut:
    deadline = demand_deadline(ctx, demand)
    return DemandOut(
        code=demand.code,
        requester_code=demand.requester.code,
        provider_code=demand.provider.code if demand.provider else None,
        resource_code=demand.resource.code if demand.resource else None,
        wanted_items=list(demand.wanted_items),
        raw_requested=list(demand.raw_requested),
        purpose=demand.purpose,
        legal_basis=demand.legal_basis,
        business_matter=demand.business_matter,
        scenario=demand.scenario,
        state=demand.state,
        submitted_at=demand.submitted_at,
        due_date=demand.due_date,
        due_provisional=deadline is not None and deadline.provisional,
        overdue=is_overdue(ctx, demand),
        decided_at=demand.decided_at,
        decision_reason=demand.decision_reason,
        grant=grant_out(demand.grant) if demand.grant else None,
    )


def history_out(entry: HistoryEntry) -> HistoryOut:
    return HistoryOut.model_validate(entry)


def api_key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        key_id=key.key_id,
        department_code=key.department.code,
        role=key.role,
        label=key.label,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )
