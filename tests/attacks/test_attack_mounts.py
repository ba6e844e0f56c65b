"""Attack 13.2: a provider mounts someone else's data under its own resource and self-declares
its personal items away, so an unconditional grant hands out raw ID numbers.

Every step goes over HTTP as the attacker and the consumer would make it.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from catalog.domain import MountKind, MountState
from catalog.models import Mount
from demo.catalog import DEPT
from lake.delta import TableRef
from tests.exchange_api.api_helpers import Api, data_get
from tests.exchange_api.lake_cases import LI, ZHANG, person_id

PURPOSE = "住房保障资格复核"


def _resource(code: str, provider: str, **overrides: Any) -> dict[str, Any]:
    """The attacker's catalogue entry: personal items labelled 一般 (not personal)."""
    body: dict[str, Any] = {
        "code": code,
        "name": "住房保障对象名单",
        "classification": "部门",
        "provider_code": provider,
        "share_type": "无条件共享",
        "update_cycle": "每日",
        "items": [
            {"name": "身份证号", "data_type": "C", "length": 18, "is_key": True,
             "sensitivity": "一般"},
            {"name": "姓名", "data_type": "C", "length": 50, "sensitivity": "一般"},
            {"name": "婚姻状况", "data_type": "C", "length": 4, "sensitivity": "公开"},
        ],
    }  # fmt: skip
    body.update(overrides)
    return body


def _publish(api: Api, owner: str, body: dict[str, Any]) -> str:
    assert api.post(owner, "/resources", body).status_code == 201
    code = str(body["code"])
    assert api.post(owner, f"/resources/{code}/submit").status_code == 200
    assert api.post("steward", f"/resources/{code}/review", {"approve": True}).status_code == 200
    return code


def _unconditional_grant(api: Api, who: str, code: str, items: list[str]) -> None:
    demand = api.post(
        who, "/demands",
        {"resource_code": code, "wanted_items": items, "purpose": PURPOSE, "legal_basis": "依据"},
    )  # fmt: skip
    assert demand.status_code == 201, demand.text
    assert demand.json()["grant"] is not None


@pytest.mark.parametrize(
    "target",
    ["../themes/theme_person", "/tmp/x", "themes/theme_person", "..", "a/../b", "Theme Person",
     "theme_person"],
)  # fmt: skip
def test_mount_target_must_be_a_plain_table_name_of_the_provider(
    data_api: Api, target: str
) -> None:
    api = data_api
    code = _publish(api, "zj", _resource("000007001/000091", DEPT["zj"]))
    mounted = api.post("zj", f"/resources/{code}/mounts", {"kind": "库表", "target": target})
    assert mounted.status_code == 422, mounted.text
    assert "挂接" in mounted.json()["message"]


def test_mount_of_another_departments_table_is_refused(data_api: Api) -> None:
    """ga_population belongs to 公安 (its 人口基本信息 mount): 住建 cannot mount it."""
    api = data_api
    code = _publish(api, "zj", _resource("000007001/000092", DEPT["zj"]))
    foreign = {"kind": "库表", "target": "ga_population"}
    mounted = api.post("zj", f"/resources/{code}/mounts", foreign)
    assert mounted.status_code == 409, mounted.text
    mine = api.post("zj", f"/resources/{code}/mounts", {"kind": "库表", "target": "zj_housing_x"})
    assert mine.status_code == 201, mine.text
    change = api.post(
        "zj", f"/mounts/{mine.json()['id']}/change", {"kind": "库表", "target": "../themes/t"}
    )
    assert change.status_code == 422, change.text


def test_theme_resource_of_a_department_cannot_mount_the_theme_table(data_api: Api) -> None:
    """Classified as 主题 it would read the themes layer: only the data authority builds themes."""
    api = data_api
    body = _resource("000007001/000093", DEPT["zj"], classification="主题")
    code = _publish(api, "zj", body)
    theme = {"kind": "库表", "target": "theme_person"}
    mounted = api.post("zj", f"/resources/{code}/mounts", theme)
    assert mounted.status_code in (403, 422), mounted.text


def test_identifier_items_are_personal_whatever_the_provider_declares(data_api: Api) -> None:
    api = data_api
    code = _publish(api, "zj", _resource("000007001/000094", DEPT["zj"]))
    items = {i["name"]: i for i in api.get("zj", f"/resources/{code}").json()["items"]}
    assert items["身份证号"]["sensitivity"] == "敏感个人信息"
    assert items["身份证号"]["mask_kind"] == "id_number"
    assert items["姓名"]["sensitivity"] in ("个人信息", "敏感个人信息")
    assert items["婚姻状况"]["sensitivity"] in ("个人信息", "敏感个人信息")


def _force_mount(api: Api, code: str, target: str) -> None:
    """A mount stored before validation existed (or written around it): serving must refuse it."""
    from catalog import repository

    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        resource = repository.resource(ctx.session, code)
        now = ctx.now()
        ctx.session.add(
            Mount(resource=resource, kind=MountKind.TABLE, target=target, config={},
                  state=MountState.MOUNTED, state_changed_at=now, created_at=now)
        )  # fmt: skip


def test_the_traversal_attack_end_to_end_yields_no_identifiers(data_api: Api) -> None:
    """The reproduced attack: mount → steward approval → unconditional grant → CSV extract."""
    api = data_api
    code = _publish(api, "zj", _resource("000007001/000095", DEPT["zj"]))
    mounted = api.post(
        "zj", f"/resources/{code}/mounts", {"kind": "库表", "target": "../themes/theme_person"}
    )
    if mounted.status_code == 201:  # today's code: the steward approves what looks routine
        approved = api.post("steward", f"/mounts/{mounted.json()['id']}/review", {"approve": True})
        assert approved.status_code == 200
    else:  # refused at the catalogue: plant it as a legacy row to test serving too
        _force_mount(api, code, "../themes/theme_person")
    _unconditional_grant(api, "rs", code, ["身份证号", "姓名", "婚姻状况"])
    extract = data_get(api, "rs", f"/extracts/{code}", PURPOSE, format="csv")
    assert ZHANG not in extract.text and LI not in extract.text
    assert extract.status_code in (403, 409), extract.text


def test_identifier_values_under_an_innocent_name_are_masked(data_api: Api, lake_root: str) -> None:
    """Value detection at serving time: an item 编号 declared 一般 holding ID numbers is masked."""
    api = data_api
    table = "zj_applicants_by_value"
    people = [person_id("330106", "19850505", 500 + n) for n in range(20)]
    write_deltalake(
        TableRef(lake_root, "validated", table).uri,
        pa.table({"编号": people, "电话": [f"1381234{n:04d}" for n in range(20)],
                  "状态": ["在册"] * 20}),
        mode="overwrite",
    )  # fmt: skip
    body = _resource(
        "000007001/000096", DEPT["zj"],
        items=[
            {"name": "编号", "data_type": "C", "length": 18, "is_key": True, "sensitivity": "一般"},
            {"name": "电话", "data_type": "C", "length": 11, "sensitivity": "一般"},
            {"name": "状态", "data_type": "C", "length": 4, "sensitivity": "一般"},
        ],
    )  # fmt: skip
    code = _publish(api, "zj", body)
    mounted = api.post("zj", f"/resources/{code}/mounts", {"kind": "库表", "target": table})
    assert mounted.status_code in (201, 409, 422), mounted.text
    if mounted.status_code == 201:
        review = api.post("steward", f"/mounts/{mounted.json()['id']}/review", {"approve": True})
        assert review.status_code == 200
    else:  # refused at mount time by value detection: serving must hold as well
        _force_mount(api, code, table)
    _unconditional_grant(api, "rs", code, ["编号", "电话", "状态"])
    extract = data_get(api, "rs", f"/extracts/{code}", PURPOSE, format="csv")
    assert extract.status_code == 200, extract.text
    assert not any(p in extract.text for p in people)
    assert "13812340001" not in extract.text
    assert "在册" in extract.text
