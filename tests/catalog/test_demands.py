"""Demand routing through the duties, reviews, deadlines and the grants they create."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog import demands, repository, services
from catalog.context import Actor
from catalog.domain import DemandState, FieldAccess, MountKind, ShareType
from catalog.errors import IllegalTransition, NotAuthorized, ValidationError
from catalog.gaps import gap_report
from catalog.schemas import DemandDecisionIn, DemandIn, MountIn, ReviewIn
from catalog.views import demand_out
from tests import factories
from tests.factories import STEWARD


def _published(ctx, dept, seq=1, *, mounted=True, **overrides):  # type: ignore[no-untyped-def]
    owner = Actor.department(dept.code)
    spec = factories.resource_spec(dept, seq, **overrides)
    services.create_resource(ctx, spec=spec, actor=owner)
    services.submit_resource(ctx, code=spec.code, actor=owner)
    services.review_resource(ctx, code=spec.code, review=ReviewIn(approve=True), actor=STEWARD)
    if mounted:
        mount = services.add_mount(
            ctx,
            resource_code=spec.code,
            spec=MountIn(kind=MountKind.TABLE, target=f"t{seq}"),
            actor=owner,
        )
        services.review_mount(ctx, mount_id=mount.id, review=ReviewIn(approve=True), actor=STEWARD)
    return spec.code


def _ask(ctx, requester, items, resource=None, raw=()):  # type: ignore[no-untyped-def]
    spec = DemandIn(
        resource_code=resource,
        wanted_items=items,
        raw_requested=list(raw),
        purpose="办理一件事",
        legal_basis="国发〔2016〕51号",
    )
    return demands.submit_demand(
        ctx, requester_code=requester.code, spec=spec, actor=Actor.department(requester.code)
    )


@pytest.fixture
def two(catalog):  # type: ignore[no-untyped-def]
    with catalog.unit() as ctx:
        provider = factories.department(ctx, 1)
        consumer = factories.department(ctx, 2)
        factories.duty(ctx, provider, "P-01", ["身份证号", "姓名", "办件状态"])
    return catalog, provider, consumer


def test_unconditional_demand_is_granted_at_once_with_personal_fields_masked(two) -> None:
    catalog, provider, consumer = two
    with catalog.unit() as ctx:
        code = _published(ctx, provider)
        demand = _ask(ctx, consumer, ["身份证号", "姓名", "办件状态"], resource=code, raw=["姓名"])
        assert demand.state is DemandState.APPROVED
        assert demand.grant.fields == {
            "身份证号": FieldAccess.MASKED,
            "姓名": FieldAccess.MASKED,  # asked raw, but nobody granted it explicitly
            "办件状态": FieldAccess.RAW,  # not personal: nothing to mask
        }
        assert demand.grant.department_id == consumer.id
        assert demand.grant.expires_at > ctx.now()


def test_demand_without_resource_is_routed_through_duties(two) -> None:
    catalog, provider, consumer = two
    with catalog.unit() as ctx:
        code = _published(ctx, provider)
        demand = _ask(ctx, consumer, ["身份证号", "办件状态"])
        assert demand.provider_id == provider.id
        assert demand.resource.code == code
        assert demand.state is DemandState.APPROVED


def test_conditional_demand_waits_ten_working_days_across_a_holiday(two, clock) -> None:
    catalog, provider, consumer = two
    # Friday 26 Sep 2025, 10:00 in Beijing: National Day week follows.
    clock.set(datetime(2025, 9, 26, 2, 0, tzinfo=UTC))
    with catalog.unit() as ctx:
        code = _published(
            ctx, provider, share_type=ShareType.CONDITIONAL, share_condition="依法履职"
        )
        demand = _ask(ctx, consumer, ["身份证号"], resource=code)
        assert demand.state is DemandState.PENDING
        assert demand.due_date.isoformat() == "2025-10-16"
    clock.set(datetime(2025, 10, 16, 15, 0, tzinfo=UTC))  # 23:00 on the due date in Beijing
    with catalog.unit() as ctx:
        demand = repository.demand(ctx.session, demand.code)
        assert not demand_out(ctx, demand).overdue
        assert gap_report(ctx).overdue_reviews == []
    clock.set(datetime(2025, 10, 16, 16, 30, tzinfo=UTC))  # 00:30 the next day in Beijing
    with catalog.unit() as ctx:
        demand = repository.demand(ctx.session, demand.code)
        assert demand_out(ctx, demand).overdue
        [late] = gap_report(ctx).overdue_reviews
        assert (late.kind, late.ref, late.working_days_late) == ("共享需求", demand.code, 1)


def test_provider_approves_with_raw_fields_or_refuses_with_reason(two) -> None:
    catalog, provider, consumer = two
    with catalog.unit() as ctx:
        code = _published(ctx, provider, share_type=ShareType.CONDITIONAL, share_condition="c")
        first = _ask(ctx, consumer, ["身份证号", "姓名"], resource=code, raw=["姓名"])
        second = _ask(ctx, consumer, ["姓名"], resource=code)
        me = Actor.department(provider.code)
        with pytest.raises(NotAuthorized):
            demands.decide_demand(
                ctx,
                code=first.code,
                decision=DemandDecisionIn(approve=True),
                actor=Actor.department(consumer.code),
            )
        with pytest.raises(NotAuthorized):
            demands.decide_demand(
                ctx, code=first.code, decision=DemandDecisionIn(approve=True), actor=STEWARD
            )
        with pytest.raises(ValidationError, match="不在需求范围内"):
            demands.decide_demand(
                ctx,
                code=first.code,
                decision=DemandDecisionIn(approve=True, raw_fields=["办件状态"]),
                actor=me,
            )
        approved = demands.decide_demand(
            ctx,
            code=first.code,
            decision=DemandDecisionIn(approve=True, raw_fields=["姓名"], valid_days=30),
            actor=me,
        )
        assert approved.grant.fields == {"身份证号": "masked", "姓名": "raw"}
        assert (approved.grant.expires_at - ctx.now()).days == 30
        with pytest.raises(ValueError, match="理由"):
            DemandDecisionIn(approve=False)
        refused = demands.decide_demand(
            ctx,
            code=second.code,
            decision=DemandDecisionIn(approve=False, reason="超出用途"),
            actor=me,
        )
        assert refused.state is DemandState.REFUSED and refused.grant is None
        assert refused.decision_reason == "超出用途"
        with pytest.raises(IllegalTransition):
            demands.decide_demand(
                ctx, code=second.code, decision=DemandDecisionIn(approve=True), actor=me
            )


def test_not_shared_resource_is_refused_with_its_basis(two) -> None:
    catalog, provider, consumer = two
    with catalog.unit() as ctx:
        code = _published(
            ctx, provider, share_type=ShareType.NOT_SHARED, not_shared_basis="《保密法》第二条"
        )
        demand = _ask(ctx, consumer, ["姓名"], resource=code)
        assert demand.state is DemandState.REFUSED
        assert "《保密法》第二条" in demand.decision_reason


def test_unowned_demand_waits_for_assignment_then_routes(two) -> None:
    catalog, provider, consumer = two
    with catalog.unit() as ctx:
        demand = _ask(ctx, consumer, ["不动产权证号"])
        assert demand.state is DemandState.UNASSIGNED
        assert [g.demand_code for g in gap_report(ctx).unowned_demands] == [demand.code]
        with pytest.raises(NotAuthorized):
            demands.assign_demand(
                ctx,
                code=demand.code,
                provider_code=provider.code,
                actor=Actor.department(provider.code),
            )
        assigned = demands.assign_demand(
            ctx, code=demand.code, provider_code=provider.code, actor=STEWARD
        )
        # Responsible now, but nothing catalogued holds the item: a capability gap.
        assert assigned.state is DemandState.NO_CAPABILITY
        history = repository.history(ctx.session, entity="demand", entity_id=demand.id)
        assert [h.action for h in history] == [
            "提出需求",
            "无责任部门",
            "指定责任部门",
            "提供方无能力",
        ]


def test_no_capability_demand_is_rerouted_when_a_mount_is_approved(two) -> None:
    catalog, provider, consumer = two
    with catalog.unit() as ctx:
        code = _published(ctx, provider, mounted=False)
        demand = _ask(ctx, consumer, ["身份证号"])
        assert demand.state is DemandState.NO_CAPABILITY and demand.provider_id == provider.id
        gaps = gap_report(ctx)
        assert [g.demand_code for g in gaps.no_capability_demands] == [demand.code]
        assert [g.resource_code for g in gaps.unmounted_resources] == [code]
        mount = services.add_mount(
            ctx,
            resource_code=code,
            spec=MountIn(kind=MountKind.API, target="https://api.example/v1"),
            actor=Actor.department(provider.code),
        )
        services.review_mount(ctx, mount_id=mount.id, review=ReviewIn(approve=True), actor=STEWARD)
        assert demand.state is DemandState.APPROVED
        assert gap_report(ctx).no_capability_demands == []


def test_requester_withdraws_and_others_cannot_see_the_demand(two) -> None:
    catalog, provider, consumer = two
    with catalog.unit() as ctx:
        third = factories.department(ctx, 3)
        code = _published(ctx, provider, share_type=ShareType.CONDITIONAL, share_condition="c")
        demand = _ask(ctx, consumer, ["姓名"], resource=code)
        with pytest.raises(NotAuthorized):
            demands.view_demand(ctx, code=demand.code, actor=Actor.department(third.code))
        assert demands.view_demand(ctx, code=demand.code, actor=Actor.department(provider.code))
        assert demands.list_demands(ctx, actor=Actor.department(third.code)) == []
        with pytest.raises(NotAuthorized):
            demands.withdraw_demand(ctx, code=demand.code, actor=Actor.department(provider.code))
        demands.withdraw_demand(ctx, code=demand.code, actor=Actor.department(consumer.code))
        assert demand.state is DemandState.WITHDRAWN


def test_demand_input_is_checked_against_the_resource(two) -> None:
    catalog, provider, consumer = two
    with catalog.unit() as ctx:
        code = _published(ctx, provider)
        with pytest.raises(ValidationError, match="没有这些信息项"):
            _ask(ctx, consumer, ["学历"], resource=code)
        with pytest.raises(ValidationError, match="本部门"):
            _ask(ctx, provider, ["姓名"], resource=code)
        with pytest.raises(NotAuthorized):
            demands.submit_demand(
                ctx,
                requester_code=consumer.code,
                spec=DemandIn(wanted_items=["姓名"], purpose="p", legal_basis="b"),
                actor=Actor.department(provider.code),
            )
        with pytest.raises(ValueError, match="legal_basis"):
            DemandIn(wanted_items=["姓名"], purpose="p")
