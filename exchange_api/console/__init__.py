"""共享交换门户: the web console, served by the exchange API's app at ``/``.

Server-rendered Jinja2 pages with htmx, backed only by the catalogue's services and ``auth``
checks (the same ones the API routes call), so the console holds no rule of its own.
Front-end files are vendored from npm (``static/README.md``); nothing loads from the internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from exchange_api import routing
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
from quality.docs_assets import VENDOR_DIR
from quality.docs_assets import VENDORED as DATA_DOCS_VENDORED

STATIC = Path(__file__).parent / "static"
DATA_DOCS_VENDOR_URL = f"/quality/docs/{VENDOR_DIR.as_posix()}"


class _SandboxedAssets(StaticFiles):
    """Library files for sandboxed pages: those pages have an opaque origin, for which a font
    is a cross-origin load, so the files say anyone may read them (they are public anyway)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response


def install(app: FastAPI, exchange: Exchange) -> None:
    """Mount the console's pages and static files on the API's app."""
    config = exchange.config
    app.state.console_sessions = SessionCodec(
        exchange.key.derive_secret("console-session"),
        idle_seconds=config.console_idle_minutes * 60,
        lifetime_seconds=config.console_session_hours * 3600,
    )
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="console-static")
    # What GE's Data Docs pages load (Bootstrap, jQuery, Vega...): library files shipped with
    # the quality package, public like the console's own; the pages themselves are authorised
    # (``routes.quality.data_docs``). Mounted before that route, which would match it too.
    app.mount(
        DATA_DOCS_VENDOR_URL,
        _SandboxedAssets(directory=DATA_DOCS_VENDORED),
        name="data-docs-vendor",
    )
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
        routing.include(app, module.router)
