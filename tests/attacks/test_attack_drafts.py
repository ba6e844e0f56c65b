"""Attack: reading other departments' unpublished catalogue entries.

Any department could list, read and search the 待提交 / 待审核 / 已退回 resources of every
other department, with their history. Only the owning department and stewards may see a
resource before it is published; to anyone else it does not exist (404, not 403, so the
answer does not reveal that a code is taken).
"""

from __future__ import annotations

import pytest

from tests.exchange_api.api_helpers import Api, publish, resource_body

DRAFT, PENDING, RETURNED, PUBLISHED = 1, 2, 3, 4


@pytest.fixture
def drafts(small_api: Api) -> dict[int, str]:
    """One resource of department "first" in each state; their names share a search word."""
    api = small_api
    codes = {}
    for seq in (DRAFT, PENDING, RETURNED):
        body = resource_body(api.codes["first"], seq, name=f"秘密草案资源{seq}")
        assert api.post("first", "/resources", body).status_code == 201
        codes[seq] = body["code"]
    assert api.post("first", f"/resources/{codes[PENDING]}/submit").status_code == 200
    assert api.post("first", f"/resources/{codes[RETURNED]}/submit").status_code == 200
    returned = api.post(
        "steward", f"/resources/{codes[RETURNED]}/review", {"approve": False, "reason": "补充"}
    )
    assert returned.status_code == 200
    codes[PUBLISHED] = publish(api, "first", PUBLISHED)
    return codes


def _listed(api: Api, who: str, **params: object) -> set[str]:
    response = api.get(who, "/resources", limit=200, **params)
    assert response.status_code == 200, response.text
    return {r["code"] for r in response.json()["data"]}


def test_another_department_cannot_list_or_search_unpublished_resources(
    small_api: Api, drafts: dict[int, str]
) -> None:
    api = small_api
    assert _listed(api, "second") == {drafts[PUBLISHED]}
    assert _listed(api, "second", q="秘密草案") == set()
    assert _listed(api, "second", q="接口测试信息资源") == {drafts[PUBLISHED]}
    assert _listed(api, "second", department=api.codes["first"]) == {drafts[PUBLISHED]}
    for state in ("待提交", "待审核", "已退回"):
        assert _listed(api, "second", state=state) == set()
    counted = api.get("second", "/resources", q="秘密草案").json()["count"]
    assert counted == 0  # the total does not count hidden resources either


@pytest.mark.parametrize("seq", [DRAFT, PENDING, RETURNED], ids=["draft", "pending", "returned"])
@pytest.mark.parametrize("suffix", ["", "/history", "/versions"])
def test_another_department_gets_404_for_an_unpublished_resource(
    small_api: Api, drafts: dict[int, str], seq: int, suffix: str
) -> None:
    api = small_api
    code = drafts[seq]
    hidden = api.get("second", f"/resources/{code}{suffix}")
    missing = api.get("second", f"/resources/000009001/999999{suffix}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["errorCode"] == missing.json()["errorCode"] == "NOT_FOUND"
    assert api.get("first", f"/resources/{code}{suffix}").status_code == 200
    assert api.get("steward", f"/resources/{code}{suffix}").status_code == 200


def test_writes_and_demands_on_a_hidden_resource_are_404_too(
    small_api: Api, drafts: dict[int, str]
) -> None:
    api = small_api
    code = drafts[RETURNED]
    body = resource_body(api.codes["first"], RETURNED)
    assert (
        api.client.put(
            f"/api/v1/resources/{code}", json=body, headers=api.headers("second")
        ).status_code
        == 404
    )
    assert api.post("second", f"/resources/{code}/submit").status_code == 404
    demand = {
        "resource_code": code,
        "wanted_items": ["办件状态"],
        "purpose": "p",
        "legal_basis": "b",
    }
    assert api.post("second", "/demands", demand).status_code == 404
    # A published resource of another department is still found (and refused as before).
    published = drafts[PUBLISHED]
    assert api.get("second", f"/resources/{published}").status_code == 200
    assert api.post("second", f"/resources/{published}/submit").status_code == 403


def test_owner_and_steward_still_see_everything(small_api: Api, drafts: dict[int, str]) -> None:
    api = small_api
    assert _listed(api, "first") == set(drafts.values())
    assert _listed(api, "steward") == set(drafts.values())
    assert _listed(api, "first", q="秘密草案") == {drafts[s] for s in (DRAFT, PENDING, RETURNED)}


def test_the_gap_report_does_not_name_another_department_s_unpublished_resource(
    small_api: Api, drafts: dict[int, str], clock
) -> None:  # type: ignore[no-untyped-def]
    clock.advance(days=40)  # the pending review is now overdue

    def refs(who: str) -> set[str]:
        report = small_api.get(who, "/gaps")
        assert report.status_code == 200, report.text
        return {r["ref"] for r in report.json()["overdue_reviews"]}

    assert drafts[PENDING] in refs("steward")
    assert drafts[PENDING] in refs("first")
    assert drafts[PENDING] not in refs("second")
