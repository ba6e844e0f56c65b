"""变更历史 of demands, grants and mounts in the console, on the app in-process.

Each object's history is shown to whoever may see the object (the same ``auth`` checks as the
API): a demand's and a grant's to their two parties and stewards, a mount's to whoever may
see its resource. Each entry says who, when, and every changed field before → after, with
user text escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from catalog import demands, repository, services
from catalog.context import Actor
from catalog.domain import MountKind, Role
from catalog.schemas import DemandDecisionIn, DemandIn, MountIn
from catalog.store import Catalog
from demo.catalog import DEPT
from exchange_api.app import create_app
from infra.settings import Settings
from tests.conftest import Clock
from tests.console.in_process import issue_keys, sign_in
from tests.factories import resource_spec

XSS = "<script>alert(1)</script>"
ROLES = {"steward": ("sjj", Role.STEWARD), "sw": ("sw", Role.DEPARTMENT),
         "rs": ("rs", Role.DEPARTMENT), "ga": ("ga", Role.DEPARTMENT)}  # fmt: skip


@dataclass
class Seeded:
    client: TestClient
    keys: dict[str, str]
    demand: str
    grant: int
    published_mount: int
    draft_mount: int

    def as_(self, role: str) -> TestClient:
        """Sign the client in as ``role`` (a new session replaces the old cookie)."""
        answer = sign_in(self.client, self.keys[role])
        assert answer.status_code == 303, answer.text
        return self.client


@pytest.fixture
def seeded(demo_catalog: Catalog, settings: Settings, clock: Clock) -> Iterator[Seeded]:
    """人社 asks 税务 for 纳税信用等级 (有条件共享); 税务 approves, which makes a grant; 税务
    also has a draft resource with a mount of its own."""
    with demo_catalog.unit() as ctx:
        issued = issue_keys(ctx, ROLES)
        spec = DemandIn(
            resource_code="000002001/000001",
            wanted_items=["统一社会信用代码", "纳税信用等级"],
            purpose=f"就业补贴审核 {XSS}",
            legal_basis="《政务信息资源共享管理暂行办法》（国发〔2016〕51号）",
        )
        rs, sw = Actor.department(DEPT["rs"]), Actor.department(DEPT["sw"])
        demand = demands.submit_demand(ctx, requester_code=DEPT["rs"], spec=spec, actor=rs)
        demands.decide_demand(
            ctx, code=demand.code, actor=sw,
            decision=DemandDecisionIn(approve=True, reason=f"同意 {XSS}", raw_fields=[]),
        )  # fmt: skip
        assert demand.grant is not None
        published = repository.resource(ctx.session, "000002001/000001").mounts[0]
        draft = services.create_resource(
            ctx, spec=resource_spec(repository.department(ctx.session, DEPT["sw"]), 77), actor=sw
        )
        mount = services.add_mount(
            ctx, resource_code=draft.code, actor=sw,
            spec=MountIn(kind=MountKind.TABLE, target="sw_history_test"),
        )  # fmt: skip
        ids = (demand.code, demand.grant.id, published.id, mount.id)
    with TestClient(create_app(settings, clock=clock)) as client:
        yield Seeded(client, issued, *ids)


def _page(client: TestClient, path: str) -> tuple[int, str]:
    answer = client.get(path, follow_redirects=False)
    assert "unsafe-inline" not in answer.headers["content-security-policy"]
    return answer.status_code, answer.text


def test_demand_history_shows_who_when_and_before_after_to_its_parties_only(
    seeded: Seeded,
) -> None:
    path = f"/demands/{seeded.demand}/history"
    for role in ("rs", "sw", "steward"):
        status, html = _page(seeded.as_(role), path)
        assert status == 200, role
        assert "提出需求" in html and "同意" in html
        assert re.search(r"<del>待审核</del>\s*→\s*<ins>已同意</ins>", html)
        assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<title>需求" in html  # a page of its own, with the menu
    status, html = _page(seeded.as_("ga"), path)
    assert status == 403 and "只能查看本部门提出或需答复的需求" in html

    fragment = seeded.as_("rs").get(path, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "变更历史" in fragment.text
    assert f'hx-get="{path}"' in seeded.client.get(f"/demands/{seeded.demand}").text


def test_grant_history_is_for_the_holder_the_provider_and_stewards(seeded: Seeded) -> None:
    path = f"/grants/{seeded.grant}/history"
    for role in ("rs", "sw", "steward"):
        status, html = _page(seeded.as_(role), path)
        assert status == 200, role
        assert "授权" in html and seeded.demand in html and "纳税信用等级" in html
    assert _page(seeded.as_("ga"), path)[0] == 403
    assert f'href="{path}"' in seeded.as_("rs").get("/grants").text


def test_mount_history_follows_its_resource_visibility(seeded: Seeded) -> None:
    published = f"/mounts/{seeded.published_mount}/history"
    draft = f"/mounts/{seeded.draft_mount}/history"
    for role in ("rs", "ga", "sw", "steward"):  # a published resource's mount: anyone
        status, html = _page(seeded.as_(role), published)
        assert status == 200, role
        assert "挂接通过" in html
    status, html = _page(seeded.as_("sw"), draft)
    assert status == 200
    assert "登记挂接" in html and "sw_history_test" in html
    assert re.search(r"<del>未挂接</del>\s*→\s*<ins>挂接待审核</ins>", html)
    assert _page(seeded.as_("steward"), draft)[0] == 200
    status, html = _page(seeded.as_("ga"), draft)  # another department's draft: not there
    assert status == 404 and "挂接不存在" in html
    assert _page(seeded.client, "/mounts/999999/history")[0] == 404
    assert f'href="{draft}"' in seeded.as_("steward").get("/review/mounts").text
    resource_page = seeded.as_("sw").get("/catalog/r/000002001/000001").text
    assert f'href="{published}"' in resource_page
