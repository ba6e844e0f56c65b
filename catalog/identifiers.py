"""Checks of the national identifiers, delegated to python-stdnum.

Messages name the identifier kind and the rule broken but never echo the value, because an ID
number is personal data and error messages end up in logs.
"""

from __future__ import annotations

from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

_REASONS = {
    InvalidLength: "长度错误 (wrong length)",
    InvalidFormat: "格式错误 (wrong format)",
    InvalidChecksum: "校验位错误 (wrong check digit)",
    InvalidComponent: "组成部分无效 (invalid component: region or birth date)",
}


def _reason(error: Exception) -> str:
    for kind, text in _REASONS.items():
        if isinstance(error, kind):
            return text
    return "无效 (invalid)"


def uscc_problem(value: str) -> str | None:
    """Why ``value`` is not a valid 统一社会信用代码, or None when it is."""
    try:
        uscc.validate(value)
    except Exception as error:  # stdnum raises ValidationError subclasses only
        return f"统一社会信用代码{_reason(error)}"
    return None


def ric_problem(value: str) -> str | None:
    """Why ``value`` is not a valid 公民身份号码 (check digit, birth date, region), or None."""
    try:
        ric.validate(value)
    except Exception as error:
        return f"身份证号{_reason(error)}"
    return None


@lru_cache(maxsize=8192)
def region_name(code: str) -> str | None:
    """The GB/T 2260 name of a six-digit 行政区划代码, or None if no such region exists."""
    if len(code) != 6 or not code.isdigit():
        return None
    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    if "province" not in info:
        return None
    if code[2:] == "0000":
        return info["province"]
    county = info.get("county")
    if county is None:
        return None
    names = [c.split("]", 1)[-1] for c in county.split(",")]
    return info["province"] + names[-1]


def region_problem(value: str) -> str | None:
    if region_name(value) is None:
        return "行政区划代码不存在 (no such GB/T 2260 region code)"
    return None


@lru_cache(maxsize=1)
def region_codes() -> frozenset[str]:
    """Every six-digit 行政区划代码 in GB/T 2260 as stdnum ships it, abolished ones included.

    Old codes stay valid in ID numbers issued before a county was merged, so a check that
    "the region exists" must accept them too.
    """
    import importlib.resources

    text = importlib.resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    codes: set[str] = set()
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            codes.add(province + "0000")
        else:
            codes.add(province + line.split()[0])
    return frozenset(c for c in codes if len(c) == 6 and c.isdigit())


def identifier_kind(item_name: str) -> str | None:
    """Which national identifier a data item holds, by the names catalogues give them."""
    if "统一社会信用代码" in item_name:
        return "uscc"
    if item_name.endswith("身份证号") or item_name == "公民身份号码":
        return "ric"
    if item_name.endswith("行政区划代码"):
        return "region"
    return None
