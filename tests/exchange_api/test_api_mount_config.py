"""A mount's config over HTTP: documented keys are validated strictly, through the review flow."""

from __future__ import annotations

import pytest

from tests.exchange_api.api_helpers import Api, publish


def _mounted(api: Api) -> int:
    code = publish(api, "first")
    mount = api.post("first", f"/resources/{code}/mounts", {"kind": "库表", "target": "t_cfg"})
    mount_id = int(mount.json()["id"])
    assert api.post("steward", f"/mounts/{mount_id}/review", {"approve": True}).status_code == 200
    return mount_id


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"column_maping": {"a": "办件状态"}}, "「column_maping」"),
        ({"units": {"办件状态": {"unit": "万元", "factor": 10000}}}, "units.办件状态"),
        ({"column_mapping": {"状态": "不存在的项"}}, "「不存在的项」不是该信息资源的信息项"),
        ({"defaults": {"身份证号": "x"}}, "「身份证号」是必填信息项"),
        ({"units": {"办件状态": {"unit": "万元", "to": "元", "factor": 10000}}}, "不是数值型"),
        ({"encoding": "gbk2"}, "未知的编码「gbk2」"),
        ({"header_row": 0}, "「header_row」"),
    ],
    ids=["unknown-key", "unit-half", "unknown-item", "default-required", "unit-text",
         "encoding", "header-row"],
)  # fmt: skip
def test_a_bad_mount_config_is_refused_naming_the_key(
    small_api: Api, config: dict, named: str
) -> None:
    api = small_api
    mount_id = _mounted(api)
    body = {"kind": "库表", "target": "t_cfg", "config": config}
    refused = api.post("first", f"/mounts/{mount_id}/change", body)
    assert refused.status_code == 422, refused.text
    assert named in refused.json()["message"]
    assert api.get("first", "/resources/000009001/000001").json()["mounts"][0]["state"] == "已挂接"


def test_a_mapping_change_waits_for_the_steward_and_a_bad_one_leaves_it_in_force(
    small_api: Api,
) -> None:
    api = small_api
    mount_id = _mounted(api)
    config = {
        "encoding": "gb18030",
        "column_mapping": {"办理状态": "办件状态"},
        "ignore_columns": ["登记机关"],
        "defaults": {},
    }
    change = api.post(
        "first", f"/mounts/{mount_id}/change", {"kind": "库表", "target": "t_cfg", "config": config}
    )
    assert change.status_code == 200, change.text
    assert change.json()["state"] == "变更待审核" and change.json()["config"] == {}
    approved = api.post("steward", f"/mounts/{mount_id}/review", {"approve": True})
    assert approved.json()["config"] == config and approved.json()["state"] == "已挂接"
    bad = {**config, "ignore_column": ["备注"]}
    refused = api.post(
        "first", f"/mounts/{mount_id}/change", {"kind": "库表", "target": "t_cfg", "config": bad}
    )
    assert refused.status_code == 422 and "「ignore_column」" in refused.json()["message"]
    mount = api.get("first", "/resources/000009001/000001").json()["mounts"][0]
    assert mount["config"] == config and mount["state"] == "已挂接"
