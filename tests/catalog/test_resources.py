"""Resource and mount lifecycles through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from catalog import repository, services
from catalog.context import Actor
from catalog.domain import MountKind, MountState, ResourceState, ShareType
from catalog.errors import Conflict, IllegalTransition, NotAuthorized, NotFound, ValidationError
from catalog.schemas import MountIn, ResourceIn, ReviewIn
from tests import factories
from tests.factories import STEWARD


def test_resource_lifecycle_records_history_and_versions(catalog) -> None:
    with catalog.unit() as ctx:
        dept = factories.department(ctx)
        owner = Actor.department(dept.code)
        spec = factories.resource_spec(dept)
        services.create_resource(ctx, spec=spec, actor=owner)
        services.submit_resource(ctx, code=spec.code, actor=owner)
        services.review_resource(
            ctx, code=spec.code, review=ReviewIn(approve=False, reason="缺少摘要"), actor=STEWARD
        )
        changed = spec.model_copy(update={"summary": "补充后的摘要"})
        services.update_resource(ctx, code=spec.code, spec=changed, actor=owner)
        services.submit_resource(ctx, code=spec.code, actor=owner)
        published = services.review_resource(
            ctx, code=spec.code, review=ReviewIn(approve=True), actor=STEWARD
        )
        assert published.state is ResourceState.PUBLISHED
        assert published.publish_date == ctx.today()
        services.request_offline(ctx, code=spec.code, reason="停止更新", actor=owner)
        retired = services.decide_offline(ctx, code=spec.code, confirm=True, actor=STEWARD)
        assert retired.state is ResourceState.RETIRED

    with catalog.unit() as ctx:
        resource = repository.resource(ctx.session, spec.code)
        history = repository.history(ctx.session, entity="resource", entity_id=resource.id)
        assert [h.action for h in history] == [
            "编目", "提交", "退回", "修改", "提交", "审核通过", "申请下线", "确认下线",
        ]  # fmt: skip
        assert history[2].after["note"] == "缺少摘要"
        assert history[3].before["summary"] == "用于测试的信息资源摘要"
        assert history[3].after["summary"] == "补充后的摘要"
        assert {h.actor for h in history} == {owner.name, STEWARD.name}
        versions = services.resource_versions(ctx, code=spec.code, actor=STEWARD)
        assert [v.version for v in versions] == [1, 2]
        assert versions[0].snapshot["summary"] == "用于测试的信息资源摘要"
        assert versions[1].snapshot["summary"] == "补充后的摘要"


def test_published_resource_cannot_be_edited_or_resubmitted(catalog) -> None:
    with catalog.unit() as ctx:
        dept = factories.department(ctx)
        owner = Actor.department(dept.code)
        spec = factories.resource_spec(dept)
        services.create_resource(ctx, spec=spec, actor=owner)
        services.submit_resource(ctx, code=spec.code, actor=owner)
        services.review_resource(ctx, code=spec.code, review=ReviewIn(approve=True), actor=STEWARD)
        with pytest.raises(Conflict, match="只有待提交或已退回"):
            services.update_resource(ctx, code=spec.code, spec=spec, actor=owner)
        with pytest.raises(IllegalTransition, match="已发布"):
            services.submit_resource(ctx, code=spec.code, actor=owner)


def test_department_acts_only_for_itself_and_only_stewards_review(catalog) -> None:
    with catalog.unit() as ctx:
        mine, other = factories.department(ctx, 1), factories.department(ctx, 2)
        spec = factories.resource_spec(other)
        with pytest.raises(NotAuthorized):
            services.create_resource(ctx, spec=spec, actor=Actor.department(mine.code))
        services.create_resource(ctx, spec=spec, actor=Actor.department(other.code))
        # Another department's draft does not exist for it (404, not 403: see auth.view_resource).
        with pytest.raises(NotFound):
            services.submit_resource(ctx, code=spec.code, actor=Actor.department(mine.code))
        services.submit_resource(ctx, code=spec.code, actor=Actor.department(other.code))
        with pytest.raises(NotAuthorized):
            services.review_resource(
                ctx,
                code=spec.code,
                review=ReviewIn(approve=True),
                actor=Actor.department(other.code),
            )


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("000009001/000001", True),
        ("A1/123456", True),
        ("000009001/1", False),
        ("000009001-000001", False),
        ("a0009001/000001", False),
        ("0/000001", False),
    ],
)
def test_resource_code_follows_configured_widths(catalog, code: str, ok: bool) -> None:
    with catalog.unit() as ctx:
        if ok:
            services.check_code(ctx, code)
        else:
            with pytest.raises(ValidationError, match="信息资源代码格式错误"):
                services.check_code(ctx, code)


def test_code_widths_are_configurable(catalog) -> None:
    with catalog.unit() as ctx:
        ctx.settings = ctx.settings.model_copy(update={"code_sequence_width": 4})
        services.check_code(ctx, "330100/0001")
        with pytest.raises(ValidationError):
            services.check_code(ctx, "330100/000001")
        assert services.next_code(ctx, "330100") == "330100/0001"


def test_share_rules_are_enforced_on_input() -> None:
    with pytest.raises(ValueError, match="共享条件"):
        ResourceIn.model_validate(
            {**_minimal(), "share_type": ShareType.CONDITIONAL, "share_condition": ""}
        )
    with pytest.raises(ValueError, match="依据"):
        ResourceIn.model_validate({**_minimal(), "share_type": ShareType.NOT_SHARED})
    with pytest.raises(ValueError, match="信息项名称重复"):
        ResourceIn.model_validate(
            {
                **_minimal(),
                "items": [{"name": "a", "data_type": "C"}, {"name": "a", "data_type": "C"}],
            }
        )


def _minimal() -> dict[str, object]:
    return {
        "code": "000009001/000001",
        "name": "x",
        "classification": "部门",
        "provider_code": factories.make_uscc(1),
        "share_type": "无条件共享",
        "update_cycle": "每日",
        "items": [{"name": "a", "data_type": "字符型"}],
    }


def test_mount_review_change_and_refresh(catalog, clock) -> None:
    with catalog.unit() as ctx:
        dept = factories.department(ctx)
        owner = Actor.department(dept.code)
        spec = factories.resource_spec(dept)
        services.create_resource(ctx, spec=spec, actor=owner)
        mount = services.add_mount(
            ctx,
            resource_code=spec.code,
            spec=MountIn(kind=MountKind.TABLE, target="t_v1", config={"load": "merge"}),
            actor=owner,
        )
        assert mount.state is MountState.PENDING
        services.review_mount(
            ctx,
            mount_id=mount.id,
            review=ReviewIn(approve=False, reason="字段不一致"),
            actor=STEWARD,
        )
        assert mount.state is MountState.RETURNED and mount.review_note == "字段不一致"
        services.submit_mount(ctx, mount_id=mount.id, actor=owner)
        services.review_mount(ctx, mount_id=mount.id, review=ReviewIn(approve=True), actor=STEWARD)
        assert mount.state is MountState.MOUNTED
        services.request_mount_change(
            ctx, mount_id=mount.id, spec=MountIn(kind=MountKind.TABLE, target="t_v2"), actor=owner
        )
        assert mount.state is MountState.CHANGE_PENDING and mount.target == "t_v1"
        services.review_mount(ctx, mount_id=mount.id, review=ReviewIn(approve=True), actor=STEWARD)
        assert (mount.state, mount.target, mount.pending_target) == (
            MountState.MOUNTED,
            "t_v2",
            None,
        )
        with pytest.raises(ValidationError):
            services.request_mount_change(
                ctx, mount_id=mount.id, spec=MountIn(kind=MountKind.API, target="x"), actor=owner
            )
        later = clock()
        services.record_refresh(ctx, mount_id=mount.id, at=later, actor=owner)
        clock.advance(hours=-1)
        services.record_refresh(ctx, mount_id=mount.id, at=clock(), actor=owner)
        assert mount.last_refreshed_at == later  # freshness never goes backwards
        with pytest.raises(IllegalTransition):
            services.submit_mount(ctx, mount_id=mount.id, actor=owner)


def test_published_resource_changes_through_a_reviewed_revision(catalog) -> None:
    with catalog.unit() as ctx:
        dept = factories.department(ctx)
        owner = Actor.department(dept.code)
        spec = factories.resource_spec(dept)
        services.create_resource(ctx, spec=spec, actor=owner)
        services.submit_resource(ctx, code=spec.code, actor=owner)
        with pytest.raises(IllegalTransition, match="待审核"):
            services.revise_resource(
                ctx, code=spec.code, spec=spec.model_copy(update={"summary": "改"}), actor=owner
            )
        services.review_resource(ctx, code=spec.code, review=ReviewIn(approve=True), actor=STEWARD)
        changed = spec.model_copy(update={"summary": "第二版摘要"})
        published_on = repository.resource(ctx.session, spec.code).publish_date
        revised = services.revise_resource(ctx, code=spec.code, spec=changed, actor=owner)
        # The published version stays in force while the change is reviewed.
        assert (revised.state, revised.version) == (ResourceState.PUBLISHED, 1)
        assert revised.summary == spec.summary
        with pytest.raises(NotAuthorized):
            services.review_revision(
                ctx, code=spec.code, review=ReviewIn(approve=True), actor=owner
            )
        approved = services.review_revision(
            ctx, code=spec.code, review=ReviewIn(approve=True), actor=STEWARD
        )
        assert (approved.version, approved.summary) == (2, "第二版摘要")
        assert approved.publish_date == published_on  # a blank 发布日期 keeps the date
        assert approved.pending_revision is None
        with pytest.raises(Conflict, match="没有待审核的变更"):
            services.review_revision(
                ctx, code=spec.code, review=ReviewIn(approve=True), actor=STEWARD
            )

    with catalog.unit() as ctx:
        resource = repository.resource(ctx.session, spec.code)
        history = repository.history(ctx.session, entity="resource", entity_id=resource.id)
        assert [h.action for h in history][-2:] == ["申请变更", "变更通过"]
        assert [c["field"] for c in history[-2].after["changes"]] == ["summary"]
        assert history[-2].actor == owner.name and history[-1].actor == STEWARD.name
        versions = services.resource_versions(ctx, code=spec.code, actor=STEWARD)
        assert [v.version for v in versions] == [1, 2]
        assert versions[1].snapshot["summary"] == "第二版摘要"
