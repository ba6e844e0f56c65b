"""Every alternative spelling the catalogue importer accepts, in one table.

Provinces name the guideline's columns and values in their own ways; whatever the importer
reads as something else is listed here and nowhere else, so ``docs/catalog-template.md``
(its 「也认作」 columns and value notes; a test checks every header alias is there) and the code
cannot drift apart. A header or value read
through this table is an interpretation, and the import report lists it.
"""

from __future__ import annotations

# Sheet key -> schema field -> headers read as that column (besides its own header).
HEADER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "resources": {
        "classification": ("资源分类", "信息资源类别"),
        "name": ("资源名称",),
        "code": ("资源代码",),
        "provider_name": (
            "提供方",
            "提供方名称",
            "资源提供方",
            "信息资源提供方名称",
            "提供单位",
            "提供部门",
        ),
        "provider_code": (
            "信息资源提供方代码",
            "提供方统一社会信用代码",
            "提供方社会信用代码",
            "提供单位代码",
            "提供部门代码",
        ),
        "summary": ("资源摘要", "摘要"),
        "format": ("资源格式",),
        "share_type": ("共享属性",),
        "share_method": ("共享方式类型",),
        "open_to_public": ("是否开放", "是否向社会公开"),
        "update_cycle": ("更新频率",),
        "publish_date": ("发布时间",),
        "related_codes": ("关联信息资源代码",),
        "category": ("信息资源类目", "资源类目"),
        "not_shared_basis": ("不予共享理由",),
        "duty_code": ("职责编码",),
        "data_level": ("数据级别",),
    },
    "items": {
        "resource_code": ("资源代码",),
        "name": ("数据项名称", "字段名称"),
        "data_type": ("字段类型",),
        "length": ("长度", "字段长度"),
        "required": ("必填",),
        "is_key": ("主键",),
        "sensitivity": ("敏感等级", "敏感程度"),
        "authoritative": ("权威来源",),
        "description": ("备注", "信息项描述"),
    },
    "departments": {
        "code": ("部门代码",),
    },
    "duties": {
        "department_code": ("统一社会信用代码", "部门统一社会信用代码"),
        "data_items": ("信息项清单", "应产生的信息项"),
    },
}

# Values read as one of the guideline's values (the guideline's own values are always read).
CLASSIFICATION_VALUES = {
    "基础信息资源": "基础",
    "主题信息资源": "主题",
    "部门信息资源": "部门",
    "基础类": "基础",
    "主题类": "主题",
    "部门类": "部门",
}
SHARE_TYPE_VALUES = {"无条件": "无条件共享", "有条件": "有条件共享", "不予": "不予共享"}
SHARE_METHOD_VALUES = {
    "数据库": "库表",
    "数据库表": "库表",
    "API": "接口",
    "服务接口": "接口",
    "文件下载": "文件",
    "线下共享": "线下",
}
UPDATE_CYCLE_VALUES = {
    "实时更新": "实时",
    "每天": "每日",
    "每季": "每季度",
    "季度": "每季度",
    "半年": "每半年",
    "每年度": "每年",
    "不定时": "不定期",
}

# 信息资源分类 written as a path: 「基础信息资源/法人」 is 分类 基础 and 类目 法人. These
# characters separate the levels (full-width ones are folded to these before the split).
CLASSIFICATION_SEPARATORS = "/\\>"


def header_aliases(sheet: str, field: str) -> tuple[str, ...]:
    """The alternative headers of one column (none when the table lists none)."""
    return HEADER_ALIASES.get(sheet, {}).get(field, ())
