"""The ``govshare`` command: one entry point for stewards, departments and engineers.

Every command group lives in its own module under ``govshare/commands`` and is imported only
when it runs: importing them all (SQLAlchemy's ORM, the catalogue, Spark helpers) took
1.5–2 s, which ``govshare --help`` and every quick command paid. The root group below lists
the commands from a table and loads one module on demand; ``app`` (the whole Typer app, for
tests that drive the CLI in-process) is built on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Annotated, Any

from typer import Option as typer_option
from typer import _click as click
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

if TYPE_CHECKING:
    import typer

HELP = "govshare：政务数据共享交换与目录平台 (government data-sharing exchange and catalogue)."

# name -> (module under govshare.commands, one-line help shown by `govshare --help`).
# tests/cli pins that each line is the command's own short help.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("system", "初始化 GOVSHARE_HOME：目录库迁移到最新结构，建立数据湖与 Airflow 目录 (idempotent)."),
    "demo": ("system", "端到端演示：初始化、演示目录、缺口报告、检索……(end-to-end demo on embedded defaults)."),
    "catalog": ("catalog", "三清单一目录：目录、职责、能力与需求 (catalogue commands)."),
    "keys": ("keys", "部门访问密钥：创建、列出、吊销、轮换 (department API keys)."),
    "grants": ("grants", "共享授权：列出、撤销 (grants)."),
    "sharing": ("sharing", "Delta Sharing 开放协议：部门 profile 文件、脱敏文件清理 (Delta Sharing)."),
    "serve": ("keys", "启动交换接口服务与共享交换门户：门户在 /，接口文档在 /api/v1/docs (API and web console)."),
    "ingest": ("lake", "运行入库批次：读取、标准化、质检、隔离、达标后入湖 (run ingest batches without Airflow)."),
    "lake": ("lake", "数据湖：表的版本与回溯 (lakehouse tables)."),
    "mounts": ("mounts", "挂接配置：编码、列映射、忽略列、默认值、单位 (how a mount reads files)."),
    "synth": ("synth", "生成演示目录各挂接资源的仿真部门数据及 manifest.json (synthetic extracts)."),
    "themes": ("themes", "主题库与核验事项：定义、查看、构建 (themes and 核验 definitions, theme builds)."),
    "spark": ("spark", "Spark 单机集群：启动、停止、状态 (a Spark standalone cluster on this machine)."),
    "dags": ("dags", "调度：由能力清单生成的 DAG (Airflow scheduling)."),
    "airflow": ("airflow", "Airflow 服务：调度器、DAG 解析、触发器与网页界面的启动、停止、状态 (Airflow services)."),
    "quality": ("quality", "质检：规则、报告、暂缓入库批次 (quality gate)."),
    "audit": ("audit", "审计日志：校验哈希链与签名、查看资源使用情况 (audit log)."),
    "calendar": ("calendar", "节假日安排：导入国务院办公厅每年的放假通知 (holiday calendar)."),
}  # fmt: skip


AS_HELP = (
    "以此身份操作，记入变更历史与质检决定：张三、steward:张三 或 dept:统一社会信用代码:李四；"
    "缺省取 GOVSHARE_CLI_ACTOR (act as this person)"
)


def _begin(as_actor: str | None) -> None:
    """The root group's callback: a fresh start for this command (``--as``, ``--json``)."""
    from govshare.runtime import begin_invocation

    begin_invocation(actor=as_actor)


def _register(module: str, app: typer.Typer) -> None:
    """Add one command module's commands to ``app`` (the catalogue group also takes transfer)."""
    commands = importlib.import_module(f"govshare.commands.{module}")
    if module == "catalog":
        from govshare.commands import transfer

        transfer.register(commands.app)
        app.add_typer(commands.app, name="catalog")
    else:
        commands.register(app)


def _command(name: str) -> click.Command | None:
    import typer

    if name not in COMMANDS:
        return None
    holder = typer.Typer(pretty_exceptions_enable=False)
    _register(COMMANDS[name][0], holder)
    found = typer.main.get_command(holder)
    if isinstance(found, TyperGroup):
        return found.commands.get(name)
    return found  # Typer returns a lone command itself rather than a group of one


class RootGroup(TyperGroup):
    """The root group: a command line the parser refuses still answers in JSON under --json.

    Errors inside a command are reported by ``govshare.runtime.handle_errors``; this catches
    the ones click raises before the command runs (a missing argument, a bad option value).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["govshare.json"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as error:
            reported = getattr(error, "govshare_reported", False)
            if (
                ctx.meta.get("govshare.json")
                and not reported
                and not isinstance(error, NoArgsIsHelpError)
            ):
                from govshare.runtime import print_json, usage_error_body

                print_json(usage_error_body(error))
            raise


class LazyGroup(RootGroup):
    """A root group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("命令 (commands)"):
            formatter.write_dl([(name, text) for name, (_, text) in COMMANDS.items()])


def _root(
    as_actor: Annotated[str | None, typer_option("--as", metavar="NAME", help=AS_HELP)] = None,
) -> None:
    _begin(as_actor)


def _root_params() -> list[click.Parameter]:
    """The root options as click parameters, made by Typer from :func:`_root`'s signature."""
    import typer

    holder = typer.Typer()
    holder.command()(_root)
    # Typer adds its shell-completion options to a lone command; the root never had them.
    return [p for p in typer.main.get_command(holder).params if p.name == "as_actor"]


def build_app() -> typer.Typer:
    """The whole Typer app, every module imported (for in-process tests)."""
    import typer

    app = typer.Typer(
        name="govshare",
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        cls=RootGroup,
    )

    app.callback()(_root)
    for module in dict.fromkeys(module for module, _ in COMMANDS.values()):
        _register(module, app)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return build_app()
    raise AttributeError(name)


def main() -> None:
    from infra import redaction

    # Before any command logs: a traceback from a job must not carry an ID number.
    redaction.install()
    # Plain (not rich) root help: rich help would load every command for its panels.
    LazyGroup(
        name="govshare",
        help=HELP,
        no_args_is_help=True,
        rich_markup_mode=None,
        params=_root_params(),
        callback=_begin,
    )(prog_name="govshare")
