"""The ``govshare`` command: one entry point for stewards, departments and engineers."""

from __future__ import annotations

import typer

from govshare.commands import audit as audit_commands
from govshare.commands import calendar as calendar_commands
from govshare.commands import catalog as catalog_commands
from govshare.commands import dags as dags_commands
from govshare.commands import grants, keys, lake, mounts, synth, system, themes, transfer
from govshare.commands import quality as quality_commands

app = typer.Typer(
    name="govshare",
    help="govshare：政务数据共享交换与目录平台 (government data-sharing exchange and catalogue).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
system.register(app)
transfer.register(catalog_commands.app)
app.add_typer(catalog_commands.app, name="catalog")
keys.register(app)
grants.register(app)
lake.register(app)
mounts.register(app)
synth.register(app)
themes.register(app)
dags_commands.register(app)
quality_commands.register(app)
audit_commands.register(app)
calendar_commands.register(app)


def main() -> None:
    app()
