"""``govshare themes``: defining and building 主题库 (一企一档, 一人一档) and 核验事项.

A theme is catalogue data: ``define`` names its theme resource, key and population,
``derive`` adds a derived field from the rule registry (``rules`` lists it), ``check`` defines
a 核验事项. ``build`` builds every defined theme. Definitions are checked against the
catalogue when they are made, and each change is kept in the catalogue's history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from govshare.runtime import (
    JsonFlag,
    catalog_unit,
    cli_actor,
    console,
    handle_errors,
    print_json,
    print_list,
    settings,
    whole_identifiers,
)

themes_app = typer.Typer(
    help="主题库与核验事项：定义、查看、构建 (themes and 核验 definitions, theme builds).",
    no_args_is_help=True,
)

ThemeCode = Annotated[str, typer.Argument(help="主题代码，如 enterprise (theme code)")]


def _pairs(values: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        left, sep, right = value.partition("=")
        if not sep or not left.strip():
            raise typer.BadParameter(
                f"应写作 名=值 (expected NAME=VALUE): {value}", param_hint=option
            )
        out[left.strip()] = right.strip()
    return out


def _split(text: str) -> list[str]:
    return [v.strip() for v in text.replace("、", ",").replace("，", ",").split(",") if v.strip()]


def _print_theme(out: Any) -> None:
    console.print(
        f"[bold]{out.code}[/] {out.name}：主题资源 {out.resource_code}，主键 {out.key}"
        f"（{'统一社会信用代码' if out.key_kind == 'uscc' else '身份证号'}），主体范围 "
        f"{out.population_code or '主键的权威来源'}"
    )
    table = Table(title=f"{out.name} 派生字段 (derived fields)")
    for col in ("字段", "规则", "来源资源", "连接列", "参数"):
        table.add_column(col, overflow="fold")
    for d in out.derived:
        params = json.dumps(d.params, ensure_ascii=False) if d.params else ""
        table.add_row(d.field, d.rule, "、".join(d.sources), "、".join(d.links), params)
    console.print(table)


@themes_app.command("list")
@handle_errors
def list_command(json_output: JsonFlag = False) -> None:
    """已定义的主题库 (the themes the catalogue defines)."""
    from catalog.themes import list_themes

    with catalog_unit() as ctx:
        found = list_themes(ctx.session)
    if json_output:
        print_json(found)
        return
    table = Table(title=f"主题库 (themes)：{len(found)}")
    for col in ("代码", "名称", "主题资源", "主键", "主体范围", "派生字段"):
        table.add_column(col, overflow="fold")
    for t in found:
        table.add_row(
            t.code, t.name, t.resource_code, t.key or "", t.population_code or "主键的权威来源",
            "、".join(d.field for d in t.derived),
        )  # fmt: skip
    console.print(table)


@themes_app.command("show")
@handle_errors
def show(code: ThemeCode, json_output: JsonFlag = False) -> None:
    """一个主题的定义：主题资源、主键、主体范围、派生字段 (one theme's definition)."""
    from catalog.themes import get_theme, theme_out

    with catalog_unit() as ctx:
        out = theme_out(get_theme(ctx.session, code))
    if json_output:
        print_json(out)
    else:
        _print_theme(out)


@themes_app.command("define")
@handle_errors
def define(
    code: Annotated[str | None, typer.Argument(help="主题代码，如 enterprise (theme code)")] = None,
    name: Annotated[str | None, typer.Option(help="主题名称，如 一企一档")] = None,
    resource: Annotated[
        str | None, typer.Option(help="主题资源的信息资源代码（分类为「主题」）")
    ] = None,
    key_kind: Annotated[
        str | None,
        typer.Option("--key-kind", help="主键类型：uscc（统一社会信用代码）或 ric（身份证号）"),
    ] = None,
    population: Annotated[
        str | None, typer.Option(help="主体范围资源代码（缺省：主键的权威来源）")
    ] = None,
    description: Annotated[str, typer.Option(help="说明")] = "",
    file: Annotated[
        Path | None,
        typer.Option("--file", help="JSON 定义文件（含 derived 派生字段），代替以上选项"),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """定义或修改主题库；不带 --file 时保留已定义的派生字段 (define or change a theme)."""
    from catalog.schemas import ThemeIn
    from catalog.themes import define_theme, theme_out
    from infra.errors import ValidationError

    if file is not None:
        data = json.loads(file.read_text(encoding="utf-8"))
        if code is not None:
            data["code"] = code
    else:
        missing = [o for o, v in (("CODE", code), ("--name", name), ("--resource", resource),
                                  ("--key-kind", key_kind)) if not v]  # fmt: skip
        if missing:
            raise ValidationError(f"缺少 {'、'.join(missing)} (or give --file)")
        data = {
            "code": code, "name": name, "resource_code": resource, "key_kind": key_kind,
            "population_code": population, "description": description,
        }  # fmt: skip
    spec = _validated(ThemeIn, data)
    with catalog_unit() as ctx:
        out = theme_out(define_theme(ctx, spec=spec, actor=cli_actor()))
    if json_output:
        print_json(out)
        return
    console.print("[green]主题已定义[/] (theme defined)")
    _print_theme(out)


def _validated(model: Any, data: dict[str, Any]) -> Any:
    """A pydantic model from CLI input, its errors as one Chinese line per problem."""
    import pydantic

    from infra.errors import ValidationError

    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '定义'}: {e['msg']}" for e in error.errors()
        ]
        raise ValidationError("定义无效 (invalid definition)", details=problems) from None


@themes_app.command("derive")
@handle_errors
def derive(
    code: ThemeCode,
    field: Annotated[str, typer.Argument(help="派生字段，须是主题资源的信息项")],
    rule: Annotated[str, typer.Option(help="规则名，见 govshare themes rules")],
    source: Annotated[
        list[str] | None, typer.Option("--source", help="来源资源代码（可重复）")
    ] = None,
    link: Annotated[
        list[str] | None, typer.Option("--link", help="来源中存放主体代码的列（可重复）")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="规则参数 名=值；取值列表以逗号分隔")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """增加或替换主题的一个派生字段 (add or replace a derived field)."""
    from catalog.schemas import DerivedFieldIn
    from catalog.themes import DERIVED_RULES, set_derived_field, theme_out

    params: dict[str, Any] = dict(_pairs(param or [], "--param"))
    doc = DERIVED_RULES.get(rule)
    for p in doc.params if doc else ():
        if p.kind == "values" and p.name in params:
            params[p.name] = _split(params[p.name])
    spec = _validated(
        DerivedFieldIn,
        {"field": field, "rule": rule, "sources": source or [], "links": link or [],
         "params": params},
    )  # fmt: skip
    with catalog_unit() as ctx:
        out = theme_out(set_derived_field(ctx, theme_code=code, spec=spec, actor=cli_actor()))
    if json_output:
        print_json(out)
    else:
        _print_theme(out)


@themes_app.command("underive")
@handle_errors
def underive(
    code: ThemeCode,
    field: Annotated[str, typer.Argument(help="要删除的派生字段")],
    json_output: JsonFlag = False,
) -> None:
    """删除主题的一个派生字段 (remove a derived field)."""
    from catalog.themes import remove_derived_field, theme_out

    with catalog_unit() as ctx:
        out = theme_out(remove_derived_field(ctx, theme_code=code, field=field, actor=cli_actor()))
    if json_output:
        print_json(out)
    else:
        _print_theme(out)


@themes_app.command("rules")
@handle_errors
def rules(json_output: JsonFlag = False) -> None:
    """派生字段的规则登记表：规则、所需来源与连接列、参数及缺省值 (the rule registry)."""
    from dataclasses import asdict

    from catalog.themes import DERIVED_RULES

    if json_output:
        print_json([asdict(r) for r in DERIVED_RULES.values()])
        return
    table = Table(title="派生字段规则 (derived-field rules)")
    for col in ("规则", "说明", "来源数", "连接列数", "参数（缺省值）"):
        table.add_column(col, overflow="fold")
    for r in DERIVED_RULES.values():
        params = "；".join(
            f"{p.name}={p.default if isinstance(p.default, str) else ','.join(p.default)}"
            f"（{p.doc}）"
            for p in r.params
        )
        links = str(r.links[0]) if r.links[0] == r.links[1] else f"{r.links[0]}-{r.links[1]}"
        table.add_row(r.name, r.summary, str(r.sources), links, params)
    console.print(table)


@themes_app.command("checks")
@handle_errors
def checks(json_output: JsonFlag = False) -> None:
    """已定义的核验事项 (the 核验 subjects the catalogue defines)."""
    from catalog.themes import list_verifications

    with catalog_unit() as ctx:
        found = list_verifications(ctx.session)
    if json_output:
        print_json(found)
        return
    table = Table(title=f"核验事项 (checks)：{len(found)}")
    for col in ("事项", "名称", "主题", "信息资源", "字段", "表示「是」的取值"):
        table.add_column(col, overflow="fold")
    for v in found:
        fields = "、".join(f"{role}={item}" for role, item in v.fields.items())
        table.add_row(
            v.check, v.name, v.theme_code or "", v.resource_code, fields, "、".join(v.yes_values)
        )
    console.print(table)


@themes_app.command("check")
@handle_errors
def check(
    name: Annotated[str, typer.Argument(help="核验事项，如 identity、alive、married、licence")],
    label: Annotated[str, typer.Option("--name", help="中文名称，如 是否在世")],
    theme: Annotated[str | None, typer.Option(help="从该主题读取（按主键查询）")] = None,
    resource: Annotated[str | None, typer.Option(help="或从该信息资源读取（证照核验）")] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="角色=信息项：identity 用 name；licence 用 holder、type、valid_until、state；"
            "其他状态核验用 value",
        ),
    ] = None,
    yes: Annotated[
        list[str] | None,
        typer.Option("--yes", help="表示「是」的取值（证照核验：有效状态），可重复"),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """定义或修改一个核验事项 (define or change a 核验 subject)."""
    from catalog.schemas import VerificationIn
    from catalog.themes import define_verification, verification_out

    spec = _validated(
        VerificationIn,
        {"check": name, "name": label, "theme_code": theme, "resource_code": resource,
         "fields": _pairs(field or [], "--field"), "yes_values": yes or []},
    )  # fmt: skip
    with catalog_unit() as ctx:
        out = verification_out(define_verification(ctx, spec=spec, actor=cli_actor()))
    if json_output:
        print_json(out)
        return
    console.print(f"[green]核验事项已定义[/]：{out.check} {out.name}（{out.resource_code}）")


@themes_app.command("uncheck")
@handle_errors
def uncheck(
    name: Annotated[str, typer.Argument(help="要删除的核验事项")], json_output: JsonFlag = False
) -> None:
    """删除一个核验事项；其核验接口随即不再回答 (remove a 核验 subject)."""
    from catalog.themes import remove_verification

    with catalog_unit() as ctx:
        remove_verification(ctx, check=name, actor=cli_actor())
    if json_output:
        print_json({"check": name, "removed": True})
        return
    console.print(f"[green]核验事项已删除[/]：{name}")


@themes_app.command("build")
@handle_errors
def build(
    full: Annotated[bool, typer.Option("--full", help="全量重建 (rebuild every key)")] = False,
    theme: Annotated[
        list[str] | None, typer.Option("--theme", help="只构建这些主题（缺省：全部已定义的主题）")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """从已校验数据构建主题库；默认增量，只重写来源有变化的主键 (incremental by default)."""
    from catalog.context import utcnow
    from jobs.sharing import refresh_after_commit
    from pipelines.themes.build import build_theme, theme_tables
    from pipelines.themes.spec import resolve, resolve_defined

    with catalog_unit() as ctx:
        if theme:
            specs = [resolve(ctx.session, code) for code in theme]
        else:
            specs = resolve_defined(ctx.session)
        today = ctx.today()
    if not specs:
        console.print("[yellow]目录中尚未定义主题库[/]：govshare themes define (no themes defined)")
    summaries = [build_theme(settings(), spec, today=today, full=full).as_dict() for spec in specs]
    for spec, summary in zip(specs, summaries, strict=True):
        if not summary["skipped"]:  # Delta Sharing's grants follow the new version
            refresh_after_commit(
                settings(), table=theme_tables(settings(), spec)[0], today=today, now=utcnow()
            )
    if json_output:
        print_list(summaries)
        return
    table = Table(title="主题库构建 (theme build)")
    for col in ("主题", "表", "版本", "记录数", "重写主键", "重写分桶", "冲突数", "方式"):
        table.add_column(col)
    for s in summaries:
        mode = "未变化" if s["skipped"] else ("全量" if s["full"] else "增量")
        table.add_row(
            str(s["theme"]), str(s["table"]), str(s["version"]), str(s["rows"]),
            str(s["keys_rewritten"]), str(s["buckets_rewritten"]), str(s["conflicts"]), mode,
        )  # fmt: skip
    console.print(whole_identifiers(table, "表"))
    for s in summaries:
        for warning in s["warnings"]:  # type: ignore[attr-defined]
            console.print(f"[yellow]注意[/] {s['theme']}：{warning}")


def register(app: typer.Typer) -> None:
    app.add_typer(themes_app, name="themes")
