"""Every legal and illegal transition of the three workflows, pinned against DOMAIN.md."""

from __future__ import annotations

import itertools

import pytest

from catalog.domain import DemandState, MountState, ResourceState
from catalog.errors import IllegalTransition
from catalog.workflow import (
    DEMAND_FLOW,
    MOUNT_FLOW,
    RESOURCE_FLOW,
    DemandAction,
    MountAction,
    ResourceAction,
)

R, RA = ResourceState, ResourceAction
M, MA = MountState, MountAction
D, DA = DemandState, DemandAction

# Written out from DOMAIN.md and the issue, independently of catalog/workflow.py.
EXPECTED_RESOURCE = {
    ("待提交", "提交"): "待审核",
    ("已退回", "提交"): "待审核",
    ("待审核", "审核通过"): "已发布",
    ("待审核", "退回"): "已退回",
    ("已发布", "申请下线"): "下线中",
    ("下线中", "撤销下线"): "已发布",
    ("下线中", "确认下线"): "已下线",
    # Issue 16: a published resource's change is reviewed while it stays published.
    ("已发布", "申请变更"): "已发布",
    ("已发布", "变更通过"): "已发布",
    ("已发布", "变更退回"): "已发布",
}
EXPECTED_MOUNT = {
    ("未挂接", "提交挂接"): "挂接待审核",
    ("已退回", "提交挂接"): "挂接待审核",
    ("挂接待审核", "挂接通过"): "已挂接",
    ("挂接待审核", "退回"): "已退回",
    ("未挂接", "数据落地"): "已挂接",
    ("挂接待审核", "数据落地"): "已挂接",
    ("已挂接", "申请变更"): "变更待审核",
    ("变更待审核", "变更通过"): "已挂接",
    ("变更待审核", "变更退回"): "已挂接",
}
EXPECTED_DEMAND = {
    ("已提交", "分发至提供方"): "待审核",
    ("已提交", "无责任部门"): "待分派",
    ("已提交", "提供方无能力"): "待建设",
    ("已提交", "无条件共享直接授权"): "已同意",
    ("已提交", "不予共享拒绝"): "已拒绝",
    ("待分派", "指定责任部门"): "已提交",
    ("待建设", "能力已建设"): "已提交",
    ("待审核", "同意"): "已同意",
    ("待审核", "拒绝"): "已拒绝",
    ("已提交", "撤回"): "已撤回",
    ("待分派", "撤回"): "已撤回",
    ("待审核", "撤回"): "已撤回",
    ("待建设", "撤回"): "已撤回",
}

MACHINES = [
    ("resource", RESOURCE_FLOW, ResourceState, ResourceAction, EXPECTED_RESOURCE),
    ("mount", MOUNT_FLOW, MountState, MountAction, EXPECTED_MOUNT),
    ("demand", DEMAND_FLOW, DemandState, DemandAction, EXPECTED_DEMAND),
]


def _cases(legal: bool) -> list[object]:
    cases = []
    for name, flow, states, actions, expected in MACHINES:
        for state, action in itertools.product(states, actions):
            if ((str(state), str(action)) in expected) == legal:
                cases.append(
                    pytest.param(flow, state, action, expected, id=f"{name}:{state}-{action}")
                )
    return cases


@pytest.mark.parametrize(("flow", "state", "action", "expected"), _cases(legal=True))
def test_legal_transition_reaches_the_documented_state(flow, state, action, expected) -> None:
    assert str(flow.next_state(state, action)) == expected[(str(state), str(action))]


@pytest.mark.parametrize(("flow", "state", "action", "expected"), _cases(legal=False))
def test_illegal_transition_is_refused_naming_state_and_allowed_actions(
    flow, state, action, expected
) -> None:
    with pytest.raises(IllegalTransition) as raised:
        flow.next_state(state, action, ref="X")
    message = raised.value.message
    assert f"「{state}」" in message and f"「{action}」" in message
    allowed = [a for (s, a) in expected if s == str(state)]
    assert raised.value.details["allowed"] == allowed
    assert raised.value.status_code == 409


def test_every_documented_state_is_reachable_or_initial() -> None:
    for _name, flow, states, _actions, _expected in MACHINES:
        targets = set(flow.transitions.values())
        sources = {s for (s, _a) in flow.transitions}
        assert set(states) <= targets | sources
