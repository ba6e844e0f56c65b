"""The interactive API documentation, served from the app itself so it works offline.

FastAPI's default ``/docs`` page loads Swagger UI from a CDN, which a government network
without internet access cannot reach: the page stayed blank. The same files, taken unchanged
from the npm package ``swagger-ui-dist`` (``exchange_api/static/README.md`` gives version,
licence and checksums, as ``quality/static/data_docs`` does for Data Docs), ship in this
package and are served under ``/api/v1/docs/static``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI_VERSION = "5.35.0"
STATIC = Path(__file__).parent / "static" / f"swagger-ui-dist-{SWAGGER_UI_VERSION}"
# File -> SHA-256 of the copy taken from swagger-ui-dist-5.35.0.tgz (tests check them).
FILES = {
    "swagger-ui-bundle.js": "e6a898692f2d768e807c3ba4626068a69a2c5dd960dd6c76f3e4d3a3de180af2",
    "swagger-ui.css": "5ed08757e53da3e026d6cbecc61fe5d43585c9560b302d534ad56692519a273d",
    "favicon-32x32.png": "3ed612f41e050ca5e7000cad6f1cbe7e7da39f65fca99c02e99e6591056e5837",
}


def install(app: FastAPI, *, prefix: str, openapi_url: str, title: str) -> None:
    """``GET {prefix}/docs``: Swagger UI from the vendored files; nothing leaves the server."""
    static = f"{prefix}/docs/static"
    app.mount(static, StaticFiles(directory=STATIC), name="swagger-ui")

    @app.get(f"{prefix}/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title}（接口文档）",
            swagger_js_url=f"{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{static}/swagger-ui.css",
            swagger_favicon_url=f"{static}/favicon-32x32.png",
            # No badge from validator.swagger.io: it would call out to the internet.
            swagger_ui_parameters={"validatorUrl": None},
        )
