"""主题库 and 核验 as catalogue data: what a steward defines, checked against the catalogue.

A theme (一企一档, 一人一档) is a 主题 resource whose data items are the theme's fields, keyed
by a USCC or an ID number. Plain fields come from their authoritative source (the 权威来源
flag, resolved at build time); derived fields name a rule of :data:`DERIVED_RULES` with the
source resources it reads as parameters. A 核验 subject says which theme or resource, and
which of its fields, answers a yes-or-no check ("alive", "married", "licence valid").

Nothing here knows a resource code: a province with its own codes defines its own themes
through the CLI, the API or the import workbook. Every definition is checked against the
catalogue when it is made, so a mistake is a precise message to the steward, not an empty
theme at build time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from catalog import auth, repository
from catalog.context import Actor, CatalogContext
from catalog.domain import KeyKind, ResourceClass
from catalog.errors import Conflict, NotFound, ValidationError
from catalog.identifiers import identifier_kind
from catalog.models import Resource, Theme, ThemeDerivedField, VerificationSubject
from catalog.schemas import (
    DerivedFieldIn,
    DerivedFieldOut,
    ThemeIn,
    ThemeOut,
    VerificationIn,
    VerificationOut,
)
from catalog.services import record

# ---- the rule registry -------------------------------------------------------------------


@dataclass(frozen=True)
class RuleParam:
    """A parameter of a derived-field rule: a source column, a theme field, or a value list."""

    name: str
    kind: str  # "column" (of every source), "theme_field" or "values"
    default: str | tuple[str, ...]
    doc: str


@dataclass(frozen=True)
class RuleDoc:
    """What a rule computes and what it must be given (``sources``: how many resources)."""

    name: str
    summary: str
    sources: int
    links: tuple[int, int]  # how many link columns, at least and at most
    params: tuple[RuleParam, ...] = ()


# The rules ``pipelines.themes`` implements, documented for stewards in docs/catalog-template.md
# (「主题派生字段」) and by ``govshare themes rules``; a test keeps both in step.
DERIVED_RULES: dict[str, RuleDoc] = {
    rule.name: rule
    for rule in (
        RuleDoc(
            "count_rows",
            "来源资源中指向该主体的记录数（如行政处罚次数），没有记录为 0",
            sources=1,
            links=(1, 1),
        ),
        RuleDoc(
            "count_valid_licences",
            "来源资源中该主体在构建日仍有效的证照数：有效期未过，且状态为空或属于有效状态",
            sources=1,
            links=(1, 1),
            params=(
                RuleParam("valid_until", "column", "有效期至", "有效期截止日期的列"),
                RuleParam("state", "column", "证照状态", "证照状态的列"),
                RuleParam("valid_states", "values", ("有效", "正常"), "视为有效的证照状态"),
            ),
        ),
        RuleDoc(
            "marriage_status",
            "该人最新一次婚姻登记（按登记日期）：离婚登记为「离异」，结婚登记为「已婚」；"
            "连接列为登记双方的身份证号列",
            sources=1,
            links=(1, 2),
            params=(
                RuleParam("kind", "column", "登记类型", "登记类型的列（含「结」或「离」）"),
                RuleParam("date", "column", "登记日期", "登记日期的列"),
            ),
        ),
        RuleDoc(
            "alive",
            "主题的死亡日期字段为空即在世（逻辑型），来源为死亡日期的权威来源",
            sources=0,
            links=(0, 0),
            params=(RuleParam("death_field", "theme_field", "死亡日期", "主题中死亡日期的字段"),),
        ),
    )
}


def rule_params(rule: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's parameters with defaults filled in (value lists as lists)."""
    doc = DERIVED_RULES[rule]
    out: dict[str, Any] = {}
    for param in doc.params:
        value = given.get(param.name, param.default)
        if param.kind == "values":
            out[param.name] = [value] if isinstance(value, str) else list(value)
        else:
            out[param.name] = value
    return out


# ---- 核验 subjects: which fields a check reads, by role ------------------------------------

IDENTITY = "identity"
LICENCE = "licence"
# The fields each kind of check reads, by role. Any check name other than identity and
# licence is a status check of a person: one field compared with the values meaning yes.
CHECK_ROLES: dict[str, tuple[str, ...]] = {
    IDENTITY: ("name",),
    LICENCE: ("holder", "type", "valid_until", "state"),
}
STATUS_ROLES = ("value",)
ROLE_LABELS = {
    "name": "姓名字段",
    "holder": "持证主体代码字段",
    "type": "证照类型字段",
    "valid_until": "有效期至字段",
    "state": "证照状态字段",
    "value": "状态字段",
}


def roles_of(check: str) -> tuple[str, ...]:
    return CHECK_ROLES.get(check, STATUS_ROLES)


# ---- lookups ------------------------------------------------------------------------------


def get_theme(session: Session, code: str) -> Theme:
    found = repository.theme_or_none(session, code)
    if found is None:
        raise NotFound(f"主题 {code} 未定义 (no such theme)")
    return found


def get_verification(session: Session, check: str) -> VerificationSubject:
    found = repository.verification_or_none(session, check)
    if found is None:
        raise NotFound(f"核验事项 {check} 未定义，请先由数据管理机构定义 (no such check defined)")
    return found


def theme_key(theme: Theme) -> str | None:
    """The theme resource's key item: the name the theme's key column carries."""
    keys = theme.resource.key_items
    return keys[0].name if keys else None


def theme_out(theme: Theme) -> ThemeOut:
    return ThemeOut(
        code=theme.code,
        name=theme.name,
        resource_code=theme.resource.code,
        key_kind=KeyKind(theme.key_kind),
        key=theme_key(theme),
        population_code=theme.population.code if theme.population else None,
        description=theme.description,
        fields=[i.name for i in theme.resource.items],
        derived=[DerivedFieldOut(**d.model_dump()) for d in _derived_in(theme)],
    )


def verification_out(subject: VerificationSubject) -> VerificationOut:
    return VerificationOut(
        check=subject.check,
        name=subject.name,
        theme_code=subject.theme.code if subject.theme else None,
        resource_code=subject.resource.code,
        fields=dict(subject.fields or {}),
        yes_values=list(subject.yes_values or []),
    )


def list_themes(session: Session) -> list[ThemeOut]:
    return [theme_out(t) for t in repository.themes(session)]


def list_verifications(session: Session) -> list[VerificationOut]:
    return [verification_out(v) for v in repository.verifications(session)]


# ---- validation ---------------------------------------------------------------------------


def _resource(session: Session, code: str, what: str) -> Resource:
    found = repository.resource_or_none(session, code)
    if found is None:
        raise ValidationError(
            f"{what} {code} 不在目录中 (no such resource)",
            details=[{"field": what, "reason": f"unknown resource {code}"}],
        )
    return found


def _key_item(resource: Resource, key_kind: KeyKind) -> str | None:
    """The item of ``resource`` holding the theme key: the key item of that identifier kind,
    else any item of that kind."""
    by_kind = [i for i in resource.items if identifier_kind(i.name) == key_kind.value]
    keyed = [i for i in by_kind if i.is_key]
    chosen = keyed or by_kind
    return chosen[0].name if chosen else None


def _check_theme_resource(session: Session, spec: ThemeIn, current: Theme | None) -> Resource:
    resource = _resource(session, spec.resource_code, "主题资源")
    if resource.classification is not ResourceClass.THEME:
        raise ValidationError(
            f"信息资源 {resource.code}「{resource.name}」的分类是「{resource.classification}」，"
            "主题库须使用分类为「主题」的信息资源 (a theme needs a 主题 resource)"
        )
    keys = resource.key_items
    if not keys:
        raise ValidationError(
            f"主题资源 {resource.code}「{resource.name}」没有主键信息项，无法按主体汇聚 "
            "(the theme resource has no key item)"
        )
    detected = identifier_kind(keys[0].name)
    if detected in ("uscc", "ric") and detected != spec.key_kind.value:
        raise ValidationError(
            f"主题资源的主键「{keys[0].name}」是{KeyKind(detected).label}，与主键类型"
            f"「{spec.key_kind.label}」不符 (key kind does not match the key item)"
        )
    other = repository.theme_of_resource(session, resource.id)
    if other is not None and (current is None or other.id != current.id):
        raise Conflict(
            f"信息资源 {resource.code} 已是主题 {other.code}「{other.name}」的主题资源 "
            "(resource already used by another theme)"
        )
    return resource


def _check_population(session: Session, code: str, key: str, key_kind: KeyKind) -> Resource:
    population = _resource(session, code, "主体范围资源")
    if population.item(key) is None and _key_item(population, key_kind) is None:
        raise ValidationError(
            f"主体范围资源 {code}「{population.name}」没有主键「{key}」或{key_kind.label}"
            "信息项 (the population resource does not hold the theme key)"
        )
    return population


def check_derived(
    session: Session, theme_resource: Resource, key: str, spec: DerivedFieldIn
) -> None:
    """Raise a ValidationError naming what is wrong with a derived field, if anything."""
    where = f"派生字段「{spec.field}」"
    problems: list[str] = []
    if theme_resource.item(spec.field) is None:
        problems.append(f"主题资源 {theme_resource.code} 没有信息项「{spec.field}」")
    elif spec.field == key:
        problems.append("主键不能是派生字段")
    doc = DERIVED_RULES.get(spec.rule)
    if doc is None:
        known = "、".join(DERIVED_RULES)
        raise ValidationError(
            f"{where}：规则 {spec.rule} 不在规则登记表中，可用的规则：{known} (unknown rule)"
        )
    if len(spec.sources) != doc.sources:
        problems.append(
            f"规则 {doc.name} 需要 {doc.sources} 个来源资源，给出了 {len(spec.sources)} 个"
        )
    low, high = doc.links
    if not low <= len(spec.links) <= high:
        wanted = str(low) if low == high else f"{low} 至 {high}"
        problems.append(f"规则 {doc.name} 需要 {wanted} 个连接列，给出了 {len(spec.links)} 个")
    known_params = {p.name: p for p in doc.params}
    for name in spec.params:
        if name not in known_params:
            problems.append(
                f"规则 {doc.name} 没有参数 {name}（可用：{'、'.join(known_params) or '无'}）"
            )
    sources: list[Resource] = []
    for code in spec.sources:
        found = repository.resource_or_none(session, code)
        if found is None:
            problems.append(f"来源资源 {code} 不在目录中")
        else:
            sources.append(found)
    effective = rule_params(doc.name, {k: v for k, v in spec.params.items() if k in known_params})
    for source in sources:
        for link in spec.links:
            if source.item(link) is None:
                problems.append(f"来源资源 {source.code}「{source.name}」没有连接列「{link}」")
        for param in doc.params:
            if param.kind == "column" and source.item(str(effective[param.name])) is None:
                problems.append(
                    f"来源资源 {source.code}「{source.name}」没有参数 {param.name} 指定的列"
                    f"「{effective[param.name]}」"
                )
    for param in doc.params:
        if param.kind == "theme_field" and theme_resource.item(str(effective[param.name])) is None:
            problems.append(
                f"主题资源 {theme_resource.code} 没有参数 {param.name} 指定的字段"
                f"「{effective[param.name]}」"
            )
        if param.kind != "values" and not isinstance(effective[param.name], str):
            problems.append(f"参数 {param.name} 应是一个列名")
    if problems:
        raise ValidationError(
            f"{where}：{'；'.join(problems)} (invalid derived field)",
            details=[{"field": spec.field, "reason": p} for p in problems],
        )


def _theme_snapshot(theme: Theme) -> dict[str, Any]:
    return theme_out(theme).model_dump(mode="json")


# ---- operations ---------------------------------------------------------------------------


def define_theme(ctx: CatalogContext, *, spec: ThemeIn, actor: Actor) -> Theme:
    """Create or replace a theme; ``spec.derived`` None keeps the derived fields it has."""
    auth.define_theme(actor)
    session = ctx.session
    current = repository.theme_or_none(session, spec.code)
    resource = _check_theme_resource(session, spec, current)
    key = resource.key_items[0].name
    population = (
        _check_population(session, spec.population_code, key, spec.key_kind)
        if spec.population_code
        else None
    )
    derived = spec.derived
    if derived is None and current is not None:
        derived = _derived_in(current)
    for field in derived or []:
        check_derived(session, resource, key, field)
    before = _theme_snapshot(current) if current is not None else None
    now = ctx.now()
    theme = current or Theme(code=spec.code, created_at=now)
    theme.name = spec.name
    theme.resource = resource
    theme.resource_id = resource.id
    theme.key_kind = spec.key_kind.value
    theme.population = population
    theme.population_id = population.id if population else None
    theme.description = spec.description
    theme.updated_at = now
    wanted = {d.field: d for d in derived or []}
    for old in list(theme.derived):
        if old.field not in wanted:
            theme.derived.remove(old)
    existing = {d.field: d for d in theme.derived}
    for name, d in wanted.items():
        row = existing.get(name)
        if row is None:
            row = ThemeDerivedField(field=name)
            theme.derived.append(row)
        row.rule, row.sources, row.links = d.rule, list(d.sources), list(d.links)
        row.params = dict(d.params)
    if current is None:
        session.add(theme)
    session.flush()
    record(
        ctx, entity="theme", entity_id=theme.id, action="修改主题" if current else "定义主题",
        actor=actor, before=before, after=_theme_snapshot(theme),
    )  # fmt: skip
    return theme


def set_derived_field(
    ctx: CatalogContext, *, theme_code: str, spec: DerivedFieldIn, actor: Actor
) -> Theme:
    """Add a derived field to a theme or replace the one of that name."""
    auth.define_theme(actor)
    theme = get_theme(ctx.session, theme_code)
    fields = [d for d in _derived_in(theme) if d.field != spec.field] + [spec]
    return define_theme(ctx, spec=_theme_in(theme, fields), actor=actor)


def remove_derived_field(
    ctx: CatalogContext, *, theme_code: str, field: str, actor: Actor
) -> Theme:
    auth.define_theme(actor)
    theme = get_theme(ctx.session, theme_code)
    fields = _derived_in(theme)
    if not any(d.field == field for d in fields):
        raise NotFound(f"主题 {theme_code} 没有派生字段「{field}」 (no such derived field)")
    kept = [d for d in fields if d.field != field]
    return define_theme(ctx, spec=_theme_in(theme, kept), actor=actor)


def _derived_in(theme: Theme) -> list[DerivedFieldIn]:
    return [
        DerivedFieldIn(
            field=d.field,
            rule=d.rule,
            sources=list(d.sources),
            links=list(d.links),
            params=dict(d.params or {}),
        )
        for d in theme.derived
    ]


def _theme_in(theme: Theme, derived: list[DerivedFieldIn]) -> ThemeIn:
    return ThemeIn(
        code=theme.code, name=theme.name, resource_code=theme.resource.code,
        key_kind=KeyKind(theme.key_kind),
        population_code=theme.population.code if theme.population else None,
        description=theme.description, derived=derived,
    )  # fmt: skip


def _check_verification(session: Session, spec: VerificationIn) -> tuple[Resource, Theme | None]:
    theme = None
    if spec.theme_code is not None:
        theme = repository.theme_or_none(session, spec.theme_code)
        if theme is None:
            raise ValidationError(
                f"核验事项 {spec.check}：主题 {spec.theme_code} 未定义 (no such theme)"
            )
        resource = theme.resource
        if spec.resource_code is not None and spec.resource_code != resource.code:
            raise ValidationError(
                f"核验事项 {spec.check}：主题 {theme.code} 的主题资源是 {resource.code}，"
                f"与信息资源代码 {spec.resource_code} 不符 (theme and resource disagree)"
            )
    else:
        assert spec.resource_code is not None
        resource = _resource(session, spec.resource_code, "核验资源")
    where = f"核验事项 {spec.check}"
    problems: list[str] = []
    roles = roles_of(spec.check)
    missing = [r for r in roles if r not in spec.fields]
    if missing:
        problems.append("缺少字段：" + "、".join(f"{r}（{ROLE_LABELS[r]}）" for r in missing))
    extra = [r for r in spec.fields if r not in roles]
    if extra:
        problems.append(f"多余的字段角色：{'、'.join(extra)}（应为 {'、'.join(roles)}）")
    for role, item in spec.fields.items():
        if role in roles and resource.item(item) is None:
            problems.append(f"信息资源 {resource.code}「{resource.name}」没有信息项「{item}」")
    if spec.check == IDENTITY and spec.yes_values:
        problems.append("身份核验比对姓名，不需要表示「是」的取值")
    if spec.check != IDENTITY and not spec.yes_values:
        what = "有效的证照状态" if spec.check == LICENCE else "表示「是」的取值"
        problems.append(f"须给出{what} (yes_values)")
    if spec.check != LICENCE:
        # /verify/identity and /verify/person look a person up by ID number.
        keys = resource.key_items
        kind = (
            theme.key_kind
            if theme is not None
            else (identifier_kind(keys[0].name) if keys else None)
        )
        if kind != KeyKind.RIC.value:
            problems.append(f"人员核验按身份证号查询，信息资源 {resource.code} 的主键不是身份证号")
    if problems:
        raise ValidationError(
            f"{where}：{'；'.join(problems)} (invalid verification)",
            details=[{"field": spec.check, "reason": p} for p in problems],
        )
    return resource, theme


def define_verification(
    ctx: CatalogContext, *, spec: VerificationIn, actor: Actor
) -> VerificationSubject:
    """Create or replace the 核验 subject named ``spec.check``."""
    auth.define_verification(actor)
    session = ctx.session
    resource, theme = _check_verification(session, spec)
    current = repository.verification_or_none(session, spec.check)
    before = verification_out(current).model_dump(mode="json") if current else None
    now = ctx.now()
    subject = current or VerificationSubject(check=spec.check, created_at=now)
    subject.name = spec.name
    subject.resource = resource
    subject.theme = theme
    subject.fields = dict(spec.fields)
    subject.yes_values = list(spec.yes_values)
    subject.updated_at = now
    if current is None:
        session.add(subject)
    session.flush()
    record(
        ctx, entity="verification", entity_id=subject.id,
        action="修改核验事项" if current else "定义核验事项", actor=actor, before=before,
        after=verification_out(subject).model_dump(mode="json"),
    )  # fmt: skip
    return subject


def remove_verification(ctx: CatalogContext, *, check: str, actor: Actor) -> None:
    auth.define_verification(actor)
    subject = get_verification(ctx.session, check)
    before = verification_out(subject).model_dump(mode="json")
    subject_id = subject.id
    ctx.session.delete(subject)
    ctx.session.flush()
    record(
        ctx, entity="verification", entity_id=subject_id, action="删除核验事项", actor=actor,
        before=before, after=None,
    )  # fmt: skip


def themes_reading(session: Session, codes: Sequence[str]) -> list[Theme]:
    """The defined themes among theme resource codes (the DAG passes resource codes)."""
    wanted = set(codes)
    return [t for t in repository.themes(session) if t.resource.code in wanted]
