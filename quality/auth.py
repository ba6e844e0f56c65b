"""Authorisation of quality-gate operations, one function per operation, same name.

Deny by default: stewards of the data authority manage rules, thresholds and held batches;
a provider department may read the rules, results and notices of its own resources.
"""

from __future__ import annotations

from catalog.context import Actor
from catalog.models import Department, Resource
from quality.errors import NotAuthorized


def _steward(actor: Actor, what: str) -> None:
    if not actor.is_steward:
        raise NotAuthorized(f"只有数据管理机构审核员可以{what} (steward role required)")


def _provider_or_steward(actor: Actor, resource: Resource, what: str) -> None:
    if actor.is_steward:
        return
    if actor.department_code != resource.provider.code:
        raise NotAuthorized(f"部门只能{what}本部门的信息资源 (only the provider or a steward)")


def add_rule(actor: Actor, resource: Resource) -> None:
    _steward(actor, "添加质检规则")


def remove_rule(actor: Actor, resource: Resource) -> None:
    _steward(actor, "删除质检规则")


def set_profile(actor: Actor, resource: Resource) -> None:
    _steward(actor, "设置质检阈值与数据标准")


def view_rules(actor: Actor, resource: Resource) -> None:
    _provider_or_steward(actor, resource, "查看")


def view_report(actor: Actor, resource: Resource) -> None:
    _provider_or_steward(actor, resource, "查看质检报告")


def view_data_docs(actor: Actor, resource: Resource) -> None:
    """A batch's Data Docs page shows what its report shows: the provider's and stewards'."""
    _provider_or_steward(actor, resource, "查看质检页面")


def view_data_docs_index(actor: Actor) -> None:
    """The Data Docs index lists every resource's batches."""
    _steward(actor, "查看全部质检页面")


def view_overview(actor: Actor) -> None:
    _steward(actor, "查看全部质检统计")


def view_notifications(actor: Actor, department: Department) -> None:
    if actor.is_steward:
        return
    if actor.department_code != department.code:
        raise NotAuthorized("部门只能查看本部门的通知 (a department reads only its own notices)")


def release_batch(actor: Actor) -> None:
    _steward(actor, "放行暂缓入库的批次")


def reject_batch(actor: Actor) -> None:
    _steward(actor, "退回暂缓入库的批次")


def run_check(actor: Actor, resource: Resource) -> None:
    _provider_or_steward(actor, resource, "运行质检")
