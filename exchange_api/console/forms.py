"""HTML forms to the catalogue's input schemas, and back.

A form only collects strings; the rules live in ``catalog.schemas`` (``ResourceIn``,
``DemandIn``, ``DemandDecisionIn``, ``ReviewIn``) and in the services, exactly as for the API
and the workbook import. Here blank fields become "not given" and checkboxes booleans, nothing
more, so a form cannot accept what the API refuses.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData

from catalog.domain import Sensitivity
from catalog.schemas import ResourceIn

# Chinese labels of the fields, for error messages (the element names of the 2017 guideline).
LABELS = {
    "code": "信息资源代码",
    "name": "名称",
    "classification": "信息资源分类",
    "category": "类别",
    "provider_code": "信息资源提供方",
    "summary": "信息资源摘要",
    "format": "信息资源格式",
    "share_type": "共享类型",
    "share_condition": "共享条件",
    "not_shared_basis": "不予共享依据",
    "share_method": "共享方式",
    "open_to_public": "是否向社会开放",
    "open_condition": "开放条件",
    "update_cycle": "更新周期",
    "publish_date": "发布日期",
    "related_codes": "关联资源代码",
    "duty_code": "职责",
    "business_matter": "业务事项",
    "scenario": "应用场景",
    "data_level": "数据分级",
    "items": "信息项",
    "data_type": "数据类型",
    "length": "数据长度",
    "sensitivity": "敏感级别",
    "required": "必填",
    "is_key": "主键",
    "authoritative": "权威来源",
    "wanted_items": "需要的信息项",
    "purpose": "用途",
    "legal_basis": "法律依据",
    "reason": "理由",
    "resource_code": "信息资源",
    "valid_days": "授权有效天数",
    "raw_fields": "原文授权的信息项",
    "kind": "挂接方式",
    "target": "挂接目标",
}

_ITEM_FIELD = re.compile(r"item-(\d+)-(\w+)")
RESOURCE_TEXT_FIELDS = (
    "code",
    "name",
    "classification",
    "category",
    "provider_code",
    "summary",
    "format",
    "share_type",
    "share_condition",
    "not_shared_basis",
    "share_method",
    "open_condition",
    "update_cycle",
    "publish_date",
    "duty_code",
    "business_matter",
    "scenario",
    "data_level",
)
ITEM_FIELDS = ("name", "data_type", "length", "sensitivity", "description")
ITEM_FLAGS = ("required", "is_key", "authoritative")


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def item_rows(form: FormData) -> list[dict[str, str]]:
    """The data-item rows as typed, blank rows dropped, in the order of the form."""
    rows: dict[int, dict[str, str]] = {}
    for key in form:
        match = _ITEM_FIELD.fullmatch(key)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = text(form, key)
    return [rows[i] for i in sorted(rows) if rows[i].get("name")]


def resource_values(form: FormData) -> dict[str, Any]:
    """The form as it was typed, to show it again next to its errors."""
    values: dict[str, Any] = {name: text(form, name) for name in RESOURCE_TEXT_FIELDS}
    values["open_to_public"] = form.get("open_to_public") == "on"
    values["related_codes"] = text(form, "related_codes")
    values["items"] = item_rows(form)
    return values


def resource_spec(values: dict[str, Any]) -> ResourceIn:
    """``ResourceIn`` from typed values; raises pydantic's ValidationError with every problem."""
    spec: dict[str, Any] = {
        name: values[name] for name in RESOURCE_TEXT_FIELDS if values.get(name) not in ("", None)
    }
    # Fields with a default in ResourceIn may stay blank; required ones are left for the schema
    # to name when missing.
    spec["open_to_public"] = bool(values.get("open_to_public"))
    related = re.split(r"[\s,，、]+", values.get("related_codes") or "")
    spec["related_codes"] = [code for code in related if code]
    items: list[dict[str, Any]] = []
    for row in values.get("items") or []:
        item: dict[str, Any] = {k: row[k] for k in ITEM_FIELDS if row.get(k)}
        if "length" in item:
            length = item["length"]
            item["length"] = int(length) if length.isdigit() else length
        for flag in ITEM_FLAGS:
            item[flag] = row.get(flag) == "on"
        items.append(item)
    spec["items"] = items
    return ResourceIn.model_validate(spec)


def spec_values(spec: ResourceIn) -> dict[str, Any]:
    """A stored resource as the form shows it (the inverse of :func:`resource_spec`)."""
    dumped = spec.model_dump(mode="json")
    values: dict[str, Any] = {
        name: "" if dumped.get(name) is None else str(dumped[name]) for name in RESOURCE_TEXT_FIELDS
    }
    values["open_to_public"] = spec.open_to_public
    values["related_codes"] = "、".join(spec.related_codes)
    values["items"] = [
        {
            "name": item.name,
            "data_type": item.data_type.value,
            "length": "" if item.length is None else str(item.length),
            "sensitivity": str(item.sensitivity),
            "description": item.description,
            **{flag: "on" if getattr(item, flag) else "" for flag in ITEM_FLAGS},
        }
        for item in spec.items
    ]
    return values


def blank_item() -> dict[str, str]:
    return {"name": "", "data_type": "C", "length": "", "sensitivity": str(Sensitivity.GENERAL)}


def new_item_rows(count: int) -> list[dict[str, str]]:
    return [blank_item() for _ in range(count)]
