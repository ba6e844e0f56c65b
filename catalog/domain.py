"""Vocabulary of the catalogue (政务信息资源目录编制指南, 2017).

Enum values are the Chinese terms stewards write in their spreadsheets, so the same value
travels unchanged through the database, the import template, the API and the reports.
"""

from __future__ import annotations

from enum import StrEnum


class ResourceClass(StrEnum):
    """信息资源分类."""

    BASE = "基础"
    THEME = "主题"
    DEPARTMENT = "部门"


BASE_LIBRARIES = ("人口", "法人", "自然资源和空间地理", "社会信用", "电子证照")


class DataType(StrEnum):
    """数据类型 codes of the guideline; ``label`` is the Chinese name."""

    CHAR = "C"
    NUMBER = "N"
    MONEY = "Y"
    DATE = "D"
    DATETIME = "T"
    LOGICAL = "L"
    MEMO = "M"
    GENERAL = "G"
    DOUBLE = "B"
    INTEGER = "I"
    FLOAT = "F"

    @property
    def label(self) -> str:
        return _DATA_TYPE_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> DataType:
        """Accept the code (C) or the Chinese name (字符型), as stewards write either."""
        cleaned = text.strip()
        for member in cls:
            if cleaned.upper() == member.value or cleaned == member.label:
                return member
        raise ValueError(f"未知的数据类型 (unknown data type) '{cleaned}'")


_DATA_TYPE_LABELS = {
    DataType.CHAR: "字符型",
    DataType.NUMBER: "数值型",
    DataType.MONEY: "货币型",
    DataType.DATE: "日期型",
    DataType.DATETIME: "日期时间型",
    DataType.LOGICAL: "逻辑型",
    DataType.MEMO: "备注型",
    DataType.GENERAL: "通用型",
    DataType.DOUBLE: "双精度型",
    DataType.INTEGER: "整型",
    DataType.FLOAT: "浮点型",
}


class ShareType(StrEnum):
    """共享类型."""

    UNCONDITIONAL = "无条件共享"
    CONDITIONAL = "有条件共享"
    NOT_SHARED = "不予共享"


class ShareMethod(StrEnum):
    """共享方式."""

    TABLE = "库表"
    API = "接口"
    FILE = "文件"
    OFFLINE = "线下"


class UpdateCycle(StrEnum):
    """更新周期."""

    REALTIME = "实时"
    DAILY = "每日"
    WEEKLY = "每周"
    MONTHLY = "每月"
    QUARTERLY = "每季度"
    HALF_YEARLY = "每半年"
    YEARLY = "每年"
    IRREGULAR = "不定期"


class Sensitivity(StrEnum):
    """Sensitivity of a data item (GB/T 43697-2024 and PIPL personal-information classes)."""

    PUBLIC = "公开"
    GENERAL = "一般"
    PERSONAL = "个人信息"
    SENSITIVE_PERSONAL = "敏感个人信息"

    @property
    def is_personal(self) -> bool:
        return self in (Sensitivity.PERSONAL, Sensitivity.SENSITIVE_PERSONAL)


class DataLevel(StrEnum):
    """数据分级 of GB/T 43697-2024."""

    CORE = "核心"
    IMPORTANT = "重要"
    GENERAL = "一般"


class ResourceState(StrEnum):
    """目录状态."""

    DRAFT = "待提交"
    PENDING = "待审核"
    PUBLISHED = "已发布"
    RETURNED = "已退回"
    RETIRING = "下线中"
    RETIRED = "已下线"


class MountKind(StrEnum):
    """挂接 asset kind: 库表, 接口 or 文件."""

    TABLE = "库表"
    API = "接口"
    FILE = "文件"


class MountState(StrEnum):
    """挂接状态."""

    UNMOUNTED = "未挂接"
    PENDING = "挂接待审核"
    MOUNTED = "已挂接"
    RETURNED = "已退回"
    CHANGE_PENDING = "变更待审核"


class DemandState(StrEnum):
    """需求状态: where a demand stands in the routing and review loop."""

    SUBMITTED = "已提交"
    UNASSIGNED = "待分派"  # nobody is responsible: the data authority must assign it
    PENDING = "待审核"  # with the provider, inside the review deadline
    NO_CAPABILITY = "待建设"  # provider responsible but has no mounted capability yet
    APPROVED = "已同意"
    REFUSED = "已拒绝"
    WITHDRAWN = "已撤回"


class Role(StrEnum):
    """Who a credential speaks for: the data authority's stewards or a department."""

    STEWARD = "steward"
    DEPARTMENT = "department"


class FieldAccess(StrEnum):
    """How a granted field is delivered."""

    RAW = "raw"
    MASKED = "masked"


class KeyKind(StrEnum):
    """What a theme is keyed by: 统一社会信用代码 (enterprises) or 公民身份号码 (persons)."""

    USCC = "uscc"
    RIC = "ric"

    @property
    def label(self) -> str:
        return "统一社会信用代码" if self is KeyKind.USCC else "身份证号"


class ExportFormat(StrEnum):
    """What ``catalog export`` writes (here, not in ``catalog.transfer``, so the CLI can offer
    the choice without importing the importer and every service behind it)."""

    XLSX = "xlsx"
    JSON = "json"
    DCAT = "dcat"
