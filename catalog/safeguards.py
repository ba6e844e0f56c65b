"""Rules that keep a provider from serving data it does not own or labelling personal data away.

Two classes of abuse close here. A mount target (挂接目标) is a plain table name inside the
provider's own part of the lake, never a path: ``../themes/theme_person`` would otherwise make a
department resource read the 一人一档 theme. And a data item whose name says it holds an
identifier (身份证号, 手机号...) or a name is personal whatever sensitivity the provider
declared: the declaration may raise the level, never lower it below what the name shows.
Serving applies the same rules again (``exchange_api.runtime``), so a row stored before these
checks existed is refused too.
"""

from __future__ import annotations

import re

from catalog.domain import MountKind, Sensitivity
from catalog.identifiers import identifier_kind

# Lower-case letters, digits and underscores, starting with a letter: no "/", no "..", no
# spaces, nothing a path resolver or a URL would interpret.
TABLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
THEME_PREFIX = "theme_"
LAKE_KINDS = (MountKind.TABLE, MountKind.FILE)

_LEVEL = {
    Sensitivity.PUBLIC: 0,
    Sensitivity.GENERAL: 1,
    Sensitivity.PERSONAL: 2,
    Sensitivity.SENSITIVE_PERSONAL: 3,
}

# (word in the item name, sensitivity it implies at least, masking convention)
_PERSONAL_NAMES: tuple[tuple[str, Sensitivity, str], ...] = (
    ("身份证", Sensitivity.SENSITIVE_PERSONAL, "id_number"),
    ("公民身份号码", Sensitivity.SENSITIVE_PERSONAL, "id_number"),
    ("证件号码", Sensitivity.SENSITIVE_PERSONAL, "id_number"),
    ("银行账号", Sensitivity.SENSITIVE_PERSONAL, "bank_card"),
    ("银行卡", Sensitivity.SENSITIVE_PERSONAL, "bank_card"),
    ("手机", Sensitivity.PERSONAL, "mobile"),
    ("电话", Sensitivity.PERSONAL, "mobile"),
    ("姓名", Sensitivity.PERSONAL, "name"),
    ("婚姻", Sensitivity.PERSONAL, "generic"),
)


def table_name_problem(name: str) -> str | None:
    """Why ``name`` is not a table name a mount may point at, or None."""
    if not TABLE_NAME.fullmatch(name):
        return (
            "挂接目标必须是本部门数据层内的表名：小写字母开头，仅含小写字母、数字和下划线，"
            "不能是路径 (mount target must be a plain table name, not a path)"
        )
    return None


def mount_target_problem(*, kind: MountKind, target: str, theme: bool) -> str | None:
    """Why a mount of ``kind`` may not point at ``target``; ``theme``: a 主题 resource's mount."""
    if kind not in LAKE_KINDS:
        return None  # an 接口 mount names an external service the platform does not read
    problem = table_name_problem(target)
    if problem:
        return problem
    if not theme and target.startswith(THEME_PREFIX):
        return f"挂接目标不能使用主题库表名前缀 {THEME_PREFIX} (mount target reserved for themes)"
    return None


def personal_by_name(item_name: str) -> tuple[Sensitivity, str] | None:
    """The least sensitivity and the mask an item's name implies, or None."""
    if identifier_kind(item_name) == "ric":
        return Sensitivity.SENSITIVE_PERSONAL, "id_number"
    for word, sensitivity, mask in _PERSONAL_NAMES:
        if word in item_name:
            return sensitivity, mask
    return None


def effective_sensitivity(
    item_name: str, declared: Sensitivity, mask_kind: str | None
) -> tuple[Sensitivity, str | None]:
    """The declared sensitivity raised to what the name shows, with a mask when personal."""
    detected = personal_by_name(item_name)
    if detected is None or _LEVEL[declared] >= _LEVEL[detected[0]]:
        if declared.is_personal and mask_kind is None and detected is not None:
            return declared, detected[1]
        return declared, mask_kind
    return detected[0], mask_kind or detected[1]
