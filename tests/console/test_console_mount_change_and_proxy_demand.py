"""From the console: a provider requests a mount change (变更), which waits in the stewards'
queue while the mount serves as before; a steward files a demand on behalf of a department.
On the app in-process; the rules are the services' (``request_mount_change``,
``submit_demand``), the same the API calls."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from catalog import repository
from catalog.domain import DemandState, MountState, Role
from catalog.store import Catalog
from demo.catalog import DEPT
from exchange_api.app import create_app
from infra.settings import Settings
from tests.conftest import Clock
from tests.console.in_process import csrf, issue_keys, sign_in

TAX_CREDIT = "000002001/000001"  # 纳税信用等级信息 of 税务, 有条件共享, mounted (sw_tax_credit)
ROLES = {"steward": ("sjj", Role.STEWARD), "sw": ("sw", Role.DEPARTMENT),
         "rs": ("rs", Role.DEPARTMENT)}  # fmt: skip


@dataclass
class Console:
    client: TestClient
    keys: dict[str, str]
    catalog: Catalog
    csrf: str = ""

    def as_(self, role: str) -> Console:
        assert sign_in(self.client, self.keys[role]).status_code == 303
        self.csrf = csrf(self.client, "/catalog")
        return self

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str, str]:
        answer = self.client.post(
            path, data={"csrf_token": self.csrf, **data}, follow_redirects=False
        )
        return answer.status_code, answer.text, answer.headers.get("location", "")


@pytest.fixture
def console(demo_catalog: Catalog, settings: Settings, clock: Clock) -> Iterator[Console]:
    with demo_catalog.unit() as ctx:
        issued = issue_keys(ctx, ROLES)
    with TestClient(create_app(settings, clock=clock)) as client:
        yield Console(client, issued, demo_catalog)


def _mount(console: Console) -> tuple[int, str, dict[str, object], MountState]:
    with console.catalog.unit() as ctx:
        mount = repository.resource(ctx.session, TAX_CREDIT).mounts[0]
        return mount.id, mount.target, dict(mount.config), mount.state


def test_provider_requests_a_mount_change_that_a_steward_then_approves(
    console: Console,
) -> None:
    mount_id, target, config, state = _mount(console)
    assert state is MountState.MOUNTED
    page = console.as_("sw").client.get(f"/catalog/r/{TAX_CREDIT}").text
    assert f'id="change-mount-{mount_id}"' in page

    change = f"/mounts/{mount_id}/change"
    status, page, _ = console.post(change, {"target": f"{target}_v2", "config": "[1, 2]"})
    assert status == 422 and "挂接配置须为 JSON 对象" in page
    status, page, _ = console.post(change, {"target": "", "config": "{}"})
    assert status == 422 and "挂接目标" in page
    assert _mount(console)[3] is MountState.MOUNTED  # nothing moved

    status, _, location = console.post(
        change, {"target": f"{target}_v2", "config": json.dumps(config, ensure_ascii=False)}
    )
    assert status == 303 and location.endswith("?done=change_requested")
    _, now_target, _, now_state = _mount(console)
    assert (now_target, now_state) == (target, MountState.CHANGE_PENDING)  # serves as before
    page = console.client.get(location).text
    assert "已申请挂接变更" in page and f"变更为 {target}_v2" in page
    assert f'id="change-mount-{mount_id}"' not in page  # one change at a time

    queue = console.as_("steward").client.get("/review/mounts").text
    assert f"{target}_v2" in queue and "变更待审核" in queue
    status, _, _ = console.post(f"/review/mounts/{mount_id}", {"decision": "approve"})
    assert status == 303
    assert _mount(console)[1:4:2] == (f"{target}_v2", MountState.MOUNTED)
    history = console.client.get(f"/mounts/{mount_id}/history").text
    assert "申请变更" in history and "变更通过" in history
    # Each step's entry shows the fields it changed, before → after.
    assert re.search(rf"<del>—</del>\s*→\s*<ins>{target}_v2</ins>", history)  # proposed
    assert re.search(rf"<del>{target}</del>\s*→\s*<ins>{target}_v2</ins>", history)  # applied


def test_only_the_provider_may_request_a_change_and_only_with_the_csrf_token(
    console: Console,
) -> None:
    mount_id, target, _, _ = _mount(console)
    change = f"/mounts/{mount_id}/change"
    page = console.as_("rs").client.get(f"/catalog/r/{TAX_CREDIT}").text
    assert "change-mount-" not in page
    status, page, _ = console.post(change, {"target": f"{target}_x", "config": "{}"})
    assert status == 403 and "申请挂接变更" in page
    console.as_("sw")
    forged = console.client.post(change, data={"target": f"{target}_x"}, follow_redirects=False)
    assert forged.status_code == 403
    assert _mount(console)[1:4:2] == (target, MountState.MOUNTED)


def test_a_steward_files_a_demand_for_a_department(console: Console) -> None:
    steward = console.as_("steward")
    resource_page = steward.client.get(f"/catalog/r/{TAX_CREDIT}").text
    assert "代部门申请共享" in resource_page
    form = steward.client.get(f"/demands/new?resource={TAX_CREDIT}").text
    assert 'id="requester_code"' in form and f'value="{DEPT["rs"]}"' in form
    assert f'value="{DEPT["sw"]}"' not in form  # not the provider itself

    fields = {
        "resource_code": TAX_CREDIT,
        "wanted_items": "纳税信用等级",
        "purpose": "就业补贴企业资格审核",
        "legal_basis": "《政务信息资源共享管理暂行办法》（国发〔2016〕51号）",
    }
    status, page, _ = steward.post("/demands", fields)
    assert status == 422 and "请选择需求部门" in page
    status, _, location = steward.post("/demands", {**fields, "requester_code": DEPT["rs"]})
    assert status == 303 and location.startswith("/demands/")
    code = location.split("/")[-1].split("?")[0]
    with console.catalog.unit() as ctx:
        demand = repository.demand(ctx.session, code)
        assert demand.requester.code == DEPT["rs"] and demand.state is DemandState.PENDING
    history = steward.client.get(f"/demands/{code}/history").text
    assert "提出需求" in history and "steward:" in history  # who filed it

    requester = console.as_("rs")
    assert code in requester.client.get("/demands").text
    # A department always files for itself, whatever the form says.
    status, _, location = requester.post("/demands", {**fields, "requester_code": DEPT["sjj"]})
    assert status == 303
    with console.catalog.unit() as ctx:
        own = repository.demand(ctx.session, location.split("/")[-1].split("?")[0])
        assert own.requester.code == DEPT["rs"]
