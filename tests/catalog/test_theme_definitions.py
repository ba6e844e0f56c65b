"""Themes and 核验事项 as catalogue data: definitions checked against the catalogue."""

from __future__ import annotations

from typing import Any

import pytest

from catalog import repository, themes
from catalog.context import Actor
from catalog.domain import KeyKind
from catalog.errors import Conflict, NotAuthorized, NotFound, ValidationError
from catalog.schemas import DerivedFieldIn, ThemeIn, VerificationIn
from catalog.store import Catalog
from demo.catalog import DEPT, ENTERPRISE_THEME, PERSON_THEME
from tests.factories import STEWARD

PENALTIES = "000001002/000001"  # 行政处罚信息 of the demo
LICENCES = "000008001/000001"
REGISTRATION = "000001001/000001"


def test_demo_declares_both_themes_and_its_checks_as_catalogue_rows(demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        found = {t.code: t for t in themes.list_themes(ctx.session)}
        checks = {v.check: v for v in themes.list_verifications(ctx.session)}
    assert set(found) == {"enterprise", "person"}
    enterprise = found["enterprise"]
    assert enterprise.resource_code == ENTERPRISE_THEME and enterprise.key == "统一社会信用代码"
    assert {d.field: d.rule for d in enterprise.derived} == {
        "行政处罚次数": "count_rows", "有效证照数": "count_valid_licences",
    }  # fmt: skip
    assert found["person"].key_kind is KeyKind.RIC
    assert set(checks) == {"identity", "alive", "married", "insured", "licence"}
    assert checks["alive"].theme_code == "person" and checks["licence"].resource_code == LICENCES


def _theme(**overrides: Any) -> ThemeIn:
    fields: dict[str, Any] = {
        "code": "enterprise", "name": "一企一档", "resource_code": ENTERPRISE_THEME,
        "key_kind": "uscc", "derived": [],
    }  # fmt: skip
    fields.update(overrides)
    return ThemeIn(**fields)


def _derived(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "field": "行政处罚次数", "rule": "count_rows", "sources": [PENALTIES],
        "links": ["统一社会信用代码"],
    }  # fmt: skip
    fields.update(overrides)
    return fields


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param(_theme(resource_code="000099001/000001"),
                     "主题资源 000099001/000001 不在目录中", id="unknown-resource"),
        pytest.param(_theme(resource_code=REGISTRATION), "主题库须使用分类为「主题」的信息资源",
                     id="not-a-theme-resource"),
        pytest.param(_theme(key_kind="ric"), "与主键类型「身份证号」不符", id="key-kind"),
        pytest.param(_theme(resource_code=PERSON_THEME, key_kind="ric"), "已是主题 person",
                     id="resource-of-another-theme"),
        pytest.param(_theme(code="firms"), "已是主题 enterprise", id="same-resource-new-code"),
        pytest.param(_theme(population_code=LICENCES), "主体范围资源 000008001/000001",
                     id="population-without-key"),
        pytest.param(_theme(derived=[_derived(rule="sum_rows")]),
                     "规则 sum_rows 不在规则登记表中", id="unknown-rule"),
        pytest.param(_theme(derived=[_derived(links=["当事人代码"])]),
                     "没有连接列「当事人代码」", id="link-not-in-source"),
        pytest.param(_theme(derived=[_derived(sources=[])]), "需要 1 个来源资源，给出了 0 个",
                     id="source-count"),
        pytest.param(_theme(derived=[_derived(field="统一社会信用代码")]), "主键不能是派生字段",
                     id="key-not-derived"),
        pytest.param(_theme(derived=[_derived(field="分支机构数")]),
                     "没有信息项「分支机构数」", id="field-not-in-theme"),
        pytest.param(_theme(derived=[_derived(
            field="有效证照数", rule="count_valid_licences", sources=[LICENCES],
            links=["持证主体代码"], params={"valid_until": "失效日期"})]),
            "没有参数 valid_until 指定的列「失效日期」", id="param-column-missing"),
        pytest.param(_theme(derived=[_derived(params={"colour": "红"})]), "没有参数 colour",
                     id="unknown-param"),
    ],
)  # fmt: skip
def test_a_theme_definition_is_checked_against_the_catalogue(
    demo_catalog: Catalog, spec: ThemeIn, message: str
) -> None:
    with demo_catalog.unit() as ctx, pytest.raises((ValidationError, Conflict)) as error:
        themes.define_theme(ctx, spec=spec, actor=STEWARD)
    assert message in error.value.message


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param(VerificationIn(check="alive", name="在世", theme_code="people",
                                    fields={"value": "是否在世"}, yes_values=["true"]),
                     "主题 people 未定义", id="unknown-theme"),
        pytest.param(VerificationIn(check="alive", name="在世", theme_code="person",
                                    fields={"value": "是否在世"}),
                     "须给出表示「是」的取值", id="no-yes-values"),
        pytest.param(VerificationIn(check="alive", name="在世", theme_code="person",
                                    fields={"value": "存活"}, yes_values=["true"]),
                     "没有信息项「存活」", id="unknown-field"),
        pytest.param(VerificationIn(check="licence", name="证照", resource_code=LICENCES,
                                    fields={"holder": "持证主体代码"}, yes_values=["有效"]),
                     "缺少字段：type", id="licence-roles"),
        pytest.param(VerificationIn(check="bankrupt", name="破产", theme_code="enterprise",
                                    fields={"value": "企业状态"}, yes_values=["破产"]),
                     "主键不是身份证号", id="person-check-on-enterprise"),
    ],
)  # fmt: skip
def test_a_check_definition_is_checked_against_the_catalogue(
    demo_catalog: Catalog, spec: VerificationIn, message: str
) -> None:
    with demo_catalog.unit() as ctx, pytest.raises(ValidationError) as error:
        themes.define_verification(ctx, spec=spec, actor=STEWARD)
    assert message in error.value.message


def test_only_stewards_define_and_every_change_is_in_the_history(demo_catalog: Catalog) -> None:
    department = Actor.department(DEPT["rs"])
    with demo_catalog.unit() as ctx, pytest.raises(NotAuthorized):
        themes.define_theme(ctx, spec=_theme(), actor=department)
    with demo_catalog.unit() as ctx, pytest.raises(NotAuthorized):
        themes.set_derived_field(
            ctx, theme_code="enterprise", spec=DerivedFieldIn(**_derived()), actor=department
        )
    with demo_catalog.unit() as ctx:
        theme = themes.remove_derived_field(
            ctx, theme_code="enterprise", field="有效证照数", actor=STEWARD
        )
        assert [d.field for d in theme.derived] == ["行政处罚次数"]
        entries = repository.history(ctx.session, entity="theme", entity_id=theme.id)
    assert [e.action for e in entries] == ["定义主题", "修改主题"]
    assert len(entries[0].after["derived"]) == 2 and len(entries[1].after["derived"]) == 1  # type: ignore[index]
    with demo_catalog.unit() as ctx:
        themes.remove_verification(ctx, check="married", actor=STEWARD)
    with demo_catalog.unit() as ctx, pytest.raises(NotFound) as error:
        themes.get_verification(ctx.session, "married")
    assert "核验事项 married 未定义" in error.value.message


def test_define_without_derived_keeps_the_derived_fields(demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        theme = themes.define_theme(
            ctx, spec=_theme(name="企业综合档案", derived=None), actor=STEWARD
        )
        assert theme.name == "企业综合档案" and len(theme.derived) == 2


def test_the_rule_registry_names_exactly_the_implemented_rules() -> None:
    from pipelines.themes.derive import FIELD_RULES, RULES

    assert set(themes.DERIVED_RULES) == set(RULES) | set(FIELD_RULES)
    for rule in themes.DERIVED_RULES.values():
        assert rule.summary and all(p.doc for p in rule.params)
