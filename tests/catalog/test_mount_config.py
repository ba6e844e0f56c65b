"""How ``govshare mounts set`` changes a mount's config, and what a config may hold (no I/O)."""

from __future__ import annotations

import pytest

from catalog.errors import ValidationError
from catalog.mount_config import changed_config, parse_mount_config


def test_set_adds_to_mappings_replaces_scalars_and_unsets_members() -> None:
    base = {
        "key": ["统一社会信用代码"],
        "encoding": "utf-8",
        "column_mapping": {"经营状态": "企业状态"},
        "ignore_columns": ["登记机关"],
    }
    changed = changed_config(
        base,
        set_keys={"encoding": "gb18030", "header_row": 2},
        mapping={"注册资本(万元)": "注册资本"},
        ignore=["备注", "登记机关"],
        defaults={"行业代码": None},
        units={"注册资本": {"unit": "万元", "to": "元", "factor": "10000"}},
        unset=["column_mapping.经营状态", "key"],
    )
    assert changed == {
        "encoding": "gb18030",
        "header_row": 2,
        "column_mapping": {"注册资本(万元)": "注册资本"},
        "ignore_columns": ["登记机关", "备注"],
        "defaults": {"行业代码": None},
        "units": {"注册资本": {"unit": "万元", "to": "元", "factor": "10000"}},
    }
    parsed = parse_mount_config(changed)
    assert parsed.conversions() == {"注册资本": 10000} and parsed.header_row == 2
    assert base["column_mapping"] == {"经营状态": "企业状态"}  # the base is not changed


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"delimiter": ";;"}, "delimiter 须为单个字符"),
        ({"column_mapping": {"a": "x"}, "ignore_columns": ["a"]}, "同时列出了「a」"),
        ({"format": "xls"}, "「format」"),
    ],
    ids=["delimiter", "mapped-and-ignored", "format"],
)
def test_bad_layout_values_are_refused_in_chinese(config: dict, named: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_mount_config(config)
    assert named in caught.value.message


def test_tab_is_accepted_as_a_word() -> None:
    assert parse_mount_config({"delimiter": "tab"}).delimiter == "\t"
