"""Top-level commands: init and demo."""

from __future__ import annotations

import typer

from catalog.store import Catalog
from govshare.runtime import JsonFlag, console, handle_errors, print_json, settings


@handle_errors
def init(json_output: JsonFlag = False) -> None:
    """初始化 GOVSHARE_HOME：目录库迁移到最新结构，建立数据湖与 Airflow 目录 (idempotent)."""
    cfg = settings()
    cfg.home.mkdir(parents=True, exist_ok=True)
    for folder in ("lake", "airflow", "reports"):
        (cfg.home / folder).mkdir(exist_ok=True)
    store = Catalog(cfg)
    try:
        store.migrate()
    finally:
        store.dispose()
    result = {
        "home": str(cfg.home.resolve()),
        "database": store.engine.url.render_as_string(hide_password=True),
        "lake": cfg.lake_path,
        "airflow_home": str(cfg.airflow_home),
    }
    if json_output:
        print_json(result)
        return
    console.print("[green]已初始化 (initialised)[/]")
    for key, value in result.items():
        console.print(f"  {key}: {value}")


def register(app: typer.Typer) -> None:
    from govshare.commands.demo import demo

    app.command("init")(init)
    app.command("demo")(demo)
