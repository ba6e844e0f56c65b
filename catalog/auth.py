"""Authorisation of catalogue operations, one function per service operation, same name.

Each service calls its check first; anything not explicitly allowed is refused (deny by
default). Stewards are the data authority's reviewers; a department acts only for itself.
"""

from __future__ import annotations

from catalog.context import Actor
from catalog.domain import ResourceState
from catalog.errors import NotAuthorized, NotFound
from catalog.models import Demand, Department, Grant, Mount, Resource


def _steward(actor: Actor, what: str) -> None:
    if not actor.is_steward:
        raise NotAuthorized(f"只有数据管理机构审核员可以{what} (steward role required)")


def _self_or_steward(actor: Actor, department_code: str, what: str) -> None:
    if actor.is_steward:
        return
    if actor.department_code != department_code:
        raise NotAuthorized(f"部门只能为本部门{what} (a department acts only for itself)")


# States every department may see: published, and the record of what was published.
PUBLIC_STATES = (ResourceState.PUBLISHED, ResourceState.RETIRING, ResourceState.RETIRED)


def view_resource(actor: Actor, resource: Resource) -> None:
    """Before publication a resource is its provider's and the stewards' business only.

    Anyone else is told it does not exist (404, the same answer as for an unknown code), so
    a refusal does not reveal that a department is cataloguing something.
    """
    if resource.state in PUBLIC_STATES or actor.is_steward:
        return
    if actor.department_code != resource.provider.code:
        raise NotFound(f"信息资源不存在 (no resource) {resource.code}")


def register_department(actor: Actor) -> None:
    _steward(actor, "登记部门")


def add_duty(actor: Actor, department: Department) -> None:
    _self_or_steward(actor, department.code, "登记职责")


def create_resource(actor: Actor, provider: Department) -> None:
    _self_or_steward(actor, provider.code, "编制目录")


def update_resource(actor: Actor, resource: Resource) -> None:
    _self_or_steward(actor, resource.provider.code, "修改目录")


def submit_resource(actor: Actor, resource: Resource) -> None:
    _self_or_steward(actor, resource.provider.code, "提交目录")


def review_resource(actor: Actor) -> None:
    _steward(actor, "审核目录")


def request_offline(actor: Actor, resource: Resource) -> None:
    _self_or_steward(actor, resource.provider.code, "申请下线")


def decide_offline(actor: Actor) -> None:
    _steward(actor, "确认或撤销下线")


def add_mount(actor: Actor, resource: Resource) -> None:
    _self_or_steward(actor, resource.provider.code, "挂接资源")


def request_mount_change(actor: Actor, resource: Resource) -> None:
    _self_or_steward(actor, resource.provider.code, "申请挂接变更")


def view_mount(actor: Actor, mount: Mount) -> None:
    """A mount is seen with its resource (the resource page lists it): whoever may see the
    resource may see the mount; anyone else is told it does not exist."""
    try:
        view_resource(actor, mount.resource)
    except NotFound:
        raise NotFound(f"挂接不存在 (no mount) {mount.id}") from None


def review_mount(actor: Actor) -> None:
    _steward(actor, "审核挂接")


def record_refresh(actor: Actor, resource: Resource) -> None:
    _self_or_steward(actor, resource.provider.code, "更新数据")


def submit_demand(actor: Actor, requester: Department) -> None:
    _self_or_steward(actor, requester.code, "提出共享需求")


def assign_demand(actor: Actor) -> None:
    _steward(actor, "分派需求")


def decide_demand(actor: Actor, demand: Demand) -> None:
    """Only the provider answers a conditional demand; the authority does not answer for it."""
    if actor.is_steward or demand.provider is None:
        raise NotAuthorized("只有资源提供部门可以答复有条件共享需求 (only the provider decides)")
    if actor.department_code != demand.provider.code:
        raise NotAuthorized("只有资源提供部门可以答复该需求 (only the provider decides)")


def withdraw_demand(actor: Actor, demand: Demand) -> None:
    _self_or_steward(actor, demand.requester.code, "撤回需求")


def view_demand(actor: Actor, demand: Demand) -> None:
    if actor.is_steward:
        return
    parties = {demand.requester.code} | ({demand.provider.code} if demand.provider else set())
    if actor.department_code not in parties:
        raise NotAuthorized("只能查看本部门提出或需答复的需求 (not a party to this demand)")


def revoke_grant(actor: Actor, grant: Grant) -> None:
    """The provider of the granted resource, or the data authority, may take a grant back."""
    if actor.is_steward:
        return
    if actor.department_code != grant.resource.provider.code:
        raise NotAuthorized("只有资源提供部门或审核员可以撤销授权 (only the provider revokes)")


def view_grant(actor: Actor, grant: Grant) -> None:
    if actor.is_steward:
        return
    if actor.department_code not in (grant.department.code, grant.resource.provider.code):
        raise NotAuthorized("只能查看本部门持有或提供的授权 (not a party to this grant)")


def manage_keys(actor: Actor) -> None:
    _steward(actor, "管理访问密钥")


def export_catalog(actor: Actor) -> None:
    _steward(actor, "导出目录")


def import_catalog(actor: Actor) -> None:
    _steward(actor, "导入目录")


def define_theme(actor: Actor) -> None:
    _steward(actor, "定义主题库")


def define_verification(actor: Actor) -> None:
    _steward(actor, "定义核验事项")


def import_holiday_notice(actor: Actor) -> None:
    _steward(actor, "导入节假日安排")
