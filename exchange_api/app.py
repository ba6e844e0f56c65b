"""The exchange API application: catalogue, demand and review operations under ``/api/v1``.

``create_app`` is a factory (``uvicorn --factory exchange_api.app:create_app``) so that
importing this module does no work: the settings are read, and the catalogue engine made,
only when an app is built. Each app owns one :class:`Catalog` (one connection pool).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from catalog.context import utcnow
from catalog.store import Catalog
from exchange_api import console, docs, errors, routing
from exchange_api.configuration import ExchangeSettings
from exchange_api.metrics import RequestMetrics
from exchange_api.routes import API_PREFIX, api_router, data_router
from exchange_api.routes.health import router as health_router
from exchange_api.routes.sharing import router as sharing_router
from exchange_api.runtime import Exchange
from infra import redaction
from infra.settings import Settings, get_settings

log = logging.getLogger("govshare.exchange_api")

DESCRIPTION = """
政务数据共享交换平台接口：目录（信息资源）、挂接、共享需求与审核；主题档案、核验、统计与导出（可用不可见）。

Government data-sharing exchange API: catalogue resources, mounts, sharing demands and
their reviews; theme profiles, verification, aggregates and extracts. Catalogue routes take a
department API key in `X-API-Key: gs_…` or `Authorization: Bearer gs_…`. Data routes take a
short-lived access token (`POST /api/v1/token` with the key, then `Authorization: Bearer
<token>`) and a declared purpose (`X-Purpose`, UTF-8 percent-encoded, or `?purpose=`) that
must match the grant. Every data call is written to a signed, hash-chained audit log.
Errors are `{"errorCode", "message"}`; a 422 lists each field and the reason in `details`.
"""


def _version() -> str:
    try:
        return version("govshare")
    except PackageNotFoundError:
        return "0.0.0"


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    exchange_settings: ExchangeSettings | None = None,
) -> FastAPI:
    """Build the API on the given settings (the process-wide ones by default)."""
    settings = settings or get_settings()
    clock = clock or utcnow
    catalog = Catalog(settings, clock=clock)

    # Identifiers never reach a log line, whoever configured logging (uvicorn does it before
    # calling this factory; lifespan runs after, when a server set up its handlers in-process).
    redaction.install()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        redaction.install()
        # Refuse to start on a catalogue that `govshare init` has not created.
        catalog.check_ready()
        log.info("exchange API ready on %s", catalog.engine.url.render_as_string(True))
        try:
            yield
        finally:
            catalog.dispose()

    app = FastAPI(
        title="govshare exchange API",
        description=DESCRIPTION,
        version=_version(),
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by exchange_api.docs from vendored files, not from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.catalog = catalog
    app.state.settings = settings
    app.state.exchange = Exchange(settings, catalog, clock=clock, config=exchange_settings)
    errors.install(app)
    docs.install(app, prefix=API_PREFIX, openapi_url=f"{API_PREFIX}/openapi.json", title=app.title)
    routing.include(app, data_router)
    routing.include(app, api_router)
    routing.include(app, sharing_router)
    # The web console at / (pages and their static files); the API stays under /api/v1.
    console.install(app, app.state.exchange)
    # Operations: /healthz, /readyz, /metrics (exchange_api.routes.health), request timing.
    routing.include(app, health_router)
    app.add_middleware(RequestMetrics)
    return app
