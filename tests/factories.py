"""Plain factory functions for catalogue test data (valid by default, override what matters)."""

from __future__ import annotations

from typing import Any

from stdnum.cn import uscc

from catalog.context import Actor, CatalogContext
from catalog.domain import DataType, ResourceClass, Sensitivity, ShareType, UpdateCycle
from catalog.models import Department
from catalog.schemas import DataItemIn, DepartmentIn, DutyIn, ResourceIn
from catalog.services import add_duty, register_department

STEWARD = Actor.steward("test-steward")


def make_uscc(n: int, region: str = "330100") -> str:
    """A valid 统一社会信用代码 for an organ (11) numbered ``n``."""
    base = f"11{region}{n:09d}"
    return base + uscc.calc_check_digit(base)


def department(ctx: CatalogContext, n: int = 1, **overrides: Any) -> Department:
    fields: dict[str, Any] = {
        "code": make_uscc(n),
        "name": f"测试部门{n}",
        "region_code": "330100",
    }
    fields.update(overrides)
    return register_department(ctx, spec=DepartmentIn(**fields), actor=STEWARD)


def duty(ctx: CatalogContext, dept: Department, code: str, items: list[str]) -> None:
    add_duty(
        ctx,
        spec=DutyIn(code=code, department_code=dept.code, name=f"职责{code}", data_items=items),
        actor=STEWARD,
    )


def item(name: str, **overrides: Any) -> DataItemIn:
    fields: dict[str, Any] = {"name": name, "data_type": DataType.CHAR, "length": 50}
    fields.update(overrides)
    return DataItemIn(**fields)


def resource_spec(provider: Department, seq: int = 1, **overrides: Any) -> ResourceIn:
    fields: dict[str, Any] = {
        "code": f"000009001/{seq:06d}",
        "name": f"测试信息资源{seq}",
        "classification": ResourceClass.DEPARTMENT,
        "provider_code": provider.code,
        "summary": "用于测试的信息资源摘要",
        "share_type": ShareType.UNCONDITIONAL,
        "update_cycle": UpdateCycle.DAILY,
        "items": [
            item("身份证号", length=18, is_key=True, sensitivity=Sensitivity.SENSITIVE_PERSONAL),
            item("姓名", sensitivity=Sensitivity.PERSONAL),
            item("办件状态"),
        ],
    }
    fields.update(overrides)
    return ResourceIn(**fields)
