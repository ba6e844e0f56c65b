"""主题库 and 核验事项 definitions: any credential reads them, only stewards define them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path

from catalog import themes
from catalog.schemas import DerivedFieldIn, Page, ThemeIn, ThemeOut, VerificationIn
from catalog.schemas import VerificationOut as VerificationDefinitionOut
from exchange_api.deps import Context, CurrentActor
from exchange_api.errors import responses

router = APIRouter(tags=["主题库与核验事项 themes and checks"])

SLUG = r"^[a-z][a-z0-9_-]*$"
ThemeCode = Annotated[
    str, Path(min_length=1, max_length=40, pattern=SLUG, description="主题代码 (theme code)")
]
CheckName = Annotated[
    str, Path(min_length=1, max_length=40, pattern=SLUG, description="核验事项 (check name)")
]
FieldName = Annotated[str, Path(min_length=1, max_length=100, description="派生字段")]


@router.get(
    "/themes",
    response_model=Page[ThemeOut],
    responses=responses(401),
    summary="已定义的主题库（一企一档、一人一档等）",
)
def list_themes(ctx: Context, actor: CurrentActor) -> Page[ThemeOut]:
    found = themes.list_themes(ctx.session)
    return Page[ThemeOut](data=found, count=len(found))


@router.post(
    "/themes",
    response_model=ThemeOut,
    responses=responses(401, 403, 409, 422),
    summary="定义或修改主题库（审核员）；derived 省略时保留已定义的派生字段",
)
def define_theme(ctx: Context, actor: CurrentActor, spec: ThemeIn) -> ThemeOut:
    return themes.theme_out(themes.define_theme(ctx, spec=spec, actor=actor))


@router.get(
    "/theme-rules",
    responses=responses(401),
    summary="派生字段的规则登记表：规则、来源数、连接列数、参数及缺省值",
)
def list_rules(actor: CurrentActor) -> list[dict[str, Any]]:
    return [asdict(r) for r in themes.DERIVED_RULES.values()]


@router.get(
    "/themes/{code}",
    response_model=ThemeOut,
    responses=responses(401, 404, 422),
    summary="一个主题库的定义",
)
def get_theme(ctx: Context, actor: CurrentActor, code: ThemeCode) -> ThemeOut:
    return themes.theme_out(themes.get_theme(ctx.session, code))


@router.post(
    "/themes/{code}/derived",
    response_model=ThemeOut,
    responses=responses(401, 403, 404, 422),
    summary="增加或替换主题的一个派生字段（审核员）",
)
def set_derived_field(
    ctx: Context, actor: CurrentActor, code: ThemeCode, spec: DerivedFieldIn
) -> ThemeOut:
    theme = themes.set_derived_field(ctx, theme_code=code, spec=spec, actor=actor)
    return themes.theme_out(theme)


@router.delete(
    "/themes/{code}/derived/{field}",
    response_model=ThemeOut,
    responses=responses(401, 403, 404, 422),
    summary="删除主题的一个派生字段（审核员）",
)
def remove_derived_field(
    ctx: Context, actor: CurrentActor, code: ThemeCode, field: FieldName
) -> ThemeOut:
    theme = themes.remove_derived_field(ctx, theme_code=code, field=field, actor=actor)
    return themes.theme_out(theme)


@router.get(
    "/verifications",
    response_model=Page[VerificationDefinitionOut],
    responses=responses(401),
    summary="已定义的核验事项",
)
def list_verifications(ctx: Context, actor: CurrentActor) -> Page[VerificationDefinitionOut]:
    found = themes.list_verifications(ctx.session)
    return Page[VerificationDefinitionOut](data=found, count=len(found))


@router.post(
    "/verifications",
    response_model=VerificationDefinitionOut,
    responses=responses(401, 403, 422),
    summary="定义或修改核验事项（审核员）：读取的主题或信息资源、字段、表示「是」的取值",
)
def define_verification(
    ctx: Context, actor: CurrentActor, spec: VerificationIn
) -> VerificationDefinitionOut:
    return themes.verification_out(themes.define_verification(ctx, spec=spec, actor=actor))


@router.get(
    "/verifications/{check}",
    response_model=VerificationDefinitionOut,
    responses=responses(401, 404, 422),
    summary="一个核验事项的定义",
)
def get_verification(
    ctx: Context, actor: CurrentActor, check: CheckName
) -> VerificationDefinitionOut:
    return themes.verification_out(themes.get_verification(ctx.session, check))


@router.delete(
    "/verifications/{check}",
    status_code=204,
    responses=responses(401, 403, 404, 422),
    summary="删除核验事项（审核员）",
)
def remove_verification(ctx: Context, actor: CurrentActor, check: CheckName) -> None:
    themes.remove_verification(ctx, check=check, actor=actor)
