"""共享交换门户: the web console, served by the exchange API's app at ``/``.

Server-rendered Jinja2 pages with htmx, backed only by the catalogue's services and ``auth``
checks (the same ones the API routes call), so the console holds no rule of its own.
Front-end files are vendored from npm (``static/README.md``); nothing loads from the internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from exchange_api.console.routes import (
    catalogue,
    demands,
    gaps,
    quality,
    register,
    review,
    session,
    transfer,
    usage,
)
from exchange_api.console.sessions import SessionCodec
from exchange_api.console.web import STATIC_URL
from exchange_api.runtime import Exchange

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI, exchange: Exchange) -> None:
    """Mount the console's pages and static files on the API's app."""
    config = exchange.config
    app.state.console_sessions = SessionCodec(
        exchange.key.derive_secret("console-session"),
        idle_seconds=config.console_idle_minutes * 60,
        lifetime_seconds=config.console_session_hours * 3600,
    )
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="console-static")
    for module in (
        session,
        catalogue,
        gaps,
        register,
        review,
        demands,
        quality,
        transfer,
        usage,
    ):
        app.include_router(module.router)
