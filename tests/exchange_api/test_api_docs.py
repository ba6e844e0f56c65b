"""/api/v1/docs works without internet: every asset the page loads is served by the app."""

from __future__ import annotations

import hashlib
import re

from exchange_api.docs import FILES, STATIC
from tests.exchange_api.api_helpers import Api


def test_the_vendored_files_are_the_ones_the_readme_names() -> None:
    for name, sha256 in FILES.items():
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == sha256, name
    assert (STATIC / "LICENSE").is_file() and (STATIC / "NOTICE").is_file()
    readme = (STATIC.parent / "README.md").read_text(encoding="utf-8")
    assert all(sha256 in readme for sha256 in FILES.values())


def test_the_docs_page_loads_only_what_the_app_serves(small_api: Api) -> None:
    client = small_api.client
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "cdn.jsdelivr.net" not in page.text and "fastapi.tiangolo.com" not in page.text
    addresses = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    addresses += re.findall(r"""url: ?['"]([^'"]+)['"]""", page.text)
    assert addresses, page.text
    for address in addresses:
        assert address.startswith("/api/v1/"), address  # nothing from another host
        served = client.get(address)
        assert served.status_code == 200, address
    bundle = client.get("/api/v1/docs/static/swagger-ui-bundle.js")
    assert hashlib.sha256(bundle.content).hexdigest() == FILES["swagger-ui-bundle.js"]
    assert '"validatorUrl": null' in page.text
    assert "/api/v1/docs" not in client.get("/api/v1/openapi.json").json()["paths"]
