"""Explicit state machines for resources, mounts and demands.

Each machine is a table of ``(state, action) -> next state``; anything not in the table is
refused with a message naming the entity, its state and the actions that state allows, so a
steward sees at once why a button did nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from catalog.domain import DemandState, MountState, ResourceState
from catalog.errors import IllegalTransition


class ResourceAction(StrEnum):
    SUBMIT = "提交"
    APPROVE = "审核通过"
    RETURN = "退回"
    REQUEST_OFFLINE = "申请下线"
    CANCEL_OFFLINE = "撤销下线"
    CONFIRM_OFFLINE = "确认下线"
    # A published resource changes through review while its current version keeps serving.
    REQUEST_CHANGE = "申请变更"
    APPROVE_CHANGE = "变更通过"
    RETURN_CHANGE = "变更退回"


class MountAction(StrEnum):
    SUBMIT = "提交挂接"
    APPROVE = "挂接通过"
    RETURN = "退回"
    REQUEST_CHANGE = "申请变更"
    APPROVE_CHANGE = "变更通过"
    RETURN_CHANGE = "变更退回"
    LAND = "数据落地"


class DemandAction(StrEnum):
    ROUTE_TO_PROVIDER = "分发至提供方"
    ROUTE_UNASSIGNED = "无责任部门"
    ROUTE_NO_CAPABILITY = "提供方无能力"
    GRANT_AT_ONCE = "无条件共享直接授权"
    REFUSE_NOT_SHARED = "不予共享拒绝"
    ASSIGN = "指定责任部门"
    CAPABILITY_READY = "能力已建设"
    APPROVE = "同意"
    REFUSE = "拒绝"
    WITHDRAW = "撤回"


S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)


@dataclass(frozen=True)
class StateMachine(Generic[S, A]):
    """A named transition table."""

    entity: str
    transitions: Mapping[tuple[S, A], S]

    def allowed(self, state: S) -> list[A]:
        return [action for (source, action) in self.transitions if source == state]

    def next_state(self, state: S, action: A, *, ref: str = "") -> S:
        try:
            return self.transitions[(state, action)]
        except KeyError:
            allowed = "、".join(str(a) for a in self.allowed(state)) or "无"
            label = f"{self.entity} {ref}".strip()
            raise IllegalTransition(
                f"{label} 当前状态为「{state}」，不能执行「{action}」；可执行的操作：{allowed} "
                f"(illegal transition: {state.name} --{action.name}-->)",
                details={
                    "state": str(state),
                    "action": str(action),
                    "allowed": [str(a) for a in self.allowed(state)],
                },
            ) from None


R, RA = ResourceState, ResourceAction
RESOURCE_FLOW: StateMachine[ResourceState, ResourceAction] = StateMachine(
    "信息资源",
    {
        (R.DRAFT, RA.SUBMIT): R.PENDING,
        (R.RETURNED, RA.SUBMIT): R.PENDING,
        (R.PENDING, RA.APPROVE): R.PUBLISHED,
        (R.PENDING, RA.RETURN): R.RETURNED,
        (R.PUBLISHED, RA.REQUEST_OFFLINE): R.RETIRING,
        (R.RETIRING, RA.CANCEL_OFFLINE): R.PUBLISHED,
        (R.RETIRING, RA.CONFIRM_OFFLINE): R.RETIRED,
        # A change proposed for a published resource (Resource.pending_revision): the state
        # stays 已发布 throughout; approval makes the proposal the next version.
        (R.PUBLISHED, RA.REQUEST_CHANGE): R.PUBLISHED,
        (R.PUBLISHED, RA.APPROVE_CHANGE): R.PUBLISHED,
        (R.PUBLISHED, RA.RETURN_CHANGE): R.PUBLISHED,
    },
)

M, MA = MountState, MountAction
MOUNT_FLOW: StateMachine[MountState, MountAction] = StateMachine(
    "挂接",
    {
        (M.UNMOUNTED, MA.SUBMIT): M.PENDING,
        (M.RETURNED, MA.SUBMIT): M.PENDING,
        (M.PENDING, MA.APPROVE): M.MOUNTED,
        (M.PENDING, MA.RETURN): M.RETURNED,
        # Data landing through the platform's own ingest proves the asset is real and usable.
        (M.UNMOUNTED, MA.LAND): M.MOUNTED,
        (M.PENDING, MA.LAND): M.MOUNTED,
        (M.MOUNTED, MA.REQUEST_CHANGE): M.CHANGE_PENDING,
        (M.CHANGE_PENDING, MA.APPROVE_CHANGE): M.MOUNTED,
        # A refused change leaves the asset as it was: still mounted, the proposal dropped.
        (M.CHANGE_PENDING, MA.RETURN_CHANGE): M.MOUNTED,
    },
)

D, DA = DemandState, DemandAction
DEMAND_FLOW: StateMachine[DemandState, DemandAction] = StateMachine(
    "共享需求",
    {
        (D.SUBMITTED, DA.ROUTE_TO_PROVIDER): D.PENDING,
        (D.SUBMITTED, DA.ROUTE_UNASSIGNED): D.UNASSIGNED,
        (D.SUBMITTED, DA.ROUTE_NO_CAPABILITY): D.NO_CAPABILITY,
        (D.SUBMITTED, DA.GRANT_AT_ONCE): D.APPROVED,
        (D.SUBMITTED, DA.REFUSE_NOT_SHARED): D.REFUSED,
        # Assignment and new capabilities send the demand through routing again.
        (D.UNASSIGNED, DA.ASSIGN): D.SUBMITTED,
        (D.NO_CAPABILITY, DA.CAPABILITY_READY): D.SUBMITTED,
        (D.PENDING, DA.APPROVE): D.APPROVED,
        (D.PENDING, DA.REFUSE): D.REFUSED,
        (D.SUBMITTED, DA.WITHDRAW): D.WITHDRAWN,
        (D.UNASSIGNED, DA.WITHDRAW): D.WITHDRAWN,
        (D.PENDING, DA.WITHDRAW): D.WITHDRAWN,
        (D.NO_CAPABILITY, DA.WITHDRAW): D.WITHDRAWN,
    },
)
