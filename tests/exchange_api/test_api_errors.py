"""One error shape everywhere, documented in the OpenAPI, with internals kept in the log."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from catalog import keys, repository, services
from catalog.domain import Role
from catalog.schemas import DepartmentIn
from catalog.store import Catalog
from exchange_api.app import create_app
from exchange_api.deps import Context, CurrentActor
from infra.settings import Settings
from tests import factories
from tests.exchange_api.api_helpers import Api, Clock
from tests.factories import make_uscc

EXPECTED_ROUTES = {
    ("get", "/api/v1/resources"),
    ("post", "/api/v1/resources"),
    ("get", "/api/v1/resources/{code}"),
    ("put", "/api/v1/resources/{code}"),
    ("get", "/api/v1/resources/{code}/versions"),
    ("get", "/api/v1/resources/{code}/history"),
    ("post", "/api/v1/resources/{code}/submit"),
    ("post", "/api/v1/resources/{code}/review"),
    ("post", "/api/v1/resources/{code}/offline"),
    ("post", "/api/v1/resources/{code}/offline/decision"),
    ("post", "/api/v1/resources/{code}/mounts"),
    ("post", "/api/v1/mounts/{mount_id}/review"),
    ("post", "/api/v1/mounts/{mount_id}/change"),
    ("get", "/api/v1/mounts/{mount_id}/history"),
    ("post", "/api/v1/demands"),
    ("get", "/api/v1/demands"),
    ("get", "/api/v1/demands/{code}"),
    ("get", "/api/v1/demands/{code}/history"),
    ("post", "/api/v1/demands/{code}/decision"),
    ("post", "/api/v1/demands/{code}/assign"),
    ("post", "/api/v1/demands/{code}/withdraw"),
    ("get", "/api/v1/departments"),
    ("get", "/api/v1/duties"),
    ("get", "/api/v1/gaps"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/grants"),
    ("post", "/api/v1/grants/{grant_id}/revoke"),
    ("get", "/api/v1/grants/{grant_id}/history"),
    ("get", "/api/v1/themes"),
    ("post", "/api/v1/themes"),
    ("get", "/api/v1/themes/{code}"),
    ("post", "/api/v1/themes/{code}/derived"),
    ("delete", "/api/v1/themes/{code}/derived/{field}"),
    ("get", "/api/v1/theme-rules"),
    ("get", "/api/v1/verifications"),
    ("post", "/api/v1/verifications"),
    ("get", "/api/v1/verifications/{check}"),
    ("delete", "/api/v1/verifications/{check}"),
    # Data serving (可用不可见) and its audit log.
    ("post", "/api/v1/token"),
    ("get", "/api/v1/token/public-key"),
    ("get", "/api/v1/themes/{theme}/profiles/{key}"),
    ("post", "/api/v1/themes/{theme}/profiles/batch"),
    ("post", "/api/v1/themes/{theme}/profiles/lookup"),
    ("post", "/api/v1/verify/identity"),
    ("post", "/api/v1/verify/person"),
    ("post", "/api/v1/verify/licence"),
    ("post", "/api/v1/aggregates"),
    ("get", "/api/v1/extracts/{code}"),
    ("get", "/api/v1/audit/usage"),
    ("get", "/api/v1/audit/alerts"),
    ("get", "/api/v1/audit/verify"),
    ("get", "/api/v1/quality/resources/{resource_code}/rules"),
    ("post", "/api/v1/quality/resources/{resource_code}/rules"),
    ("delete", "/api/v1/quality/rules/{rule_id}"),
    ("put", "/api/v1/quality/resources/{resource_code}/profile"),
    ("get", "/api/v1/quality/resources/{resource_code}/report"),
    ("get", "/api/v1/quality/pass-rates"),
    ("post", "/api/v1/quality/batches/{batch_id}/release"),
    ("post", "/api/v1/quality/batches/{batch_id}/reject"),
    ("get", "/api/v1/open-data/dcat"),
    ("get", "/api/v1/open-data/dcat/full"),
    # Delta Sharing (docs/delta-sharing.md): a profile's bearer token, files by signed URL.
    ("get", "/delta-sharing/shares"),
    ("get", "/delta-sharing/shares/{share}"),
    ("get", "/delta-sharing/shares/{share}/schemas"),
    ("get", "/delta-sharing/shares/{share}/schemas/{schema}/tables"),
    ("get", "/delta-sharing/shares/{share}/all-tables"),
    ("get", "/delta-sharing/shares/{share}/schemas/{schema}/tables/{table}/version"),
    ("head", "/delta-sharing/shares/{share}/schemas/{schema}/tables/{table}/version"),
    ("get", "/delta-sharing/shares/{share}/schemas/{schema}/tables/{table}/metadata"),
    ("post", "/delta-sharing/shares/{share}/schemas/{schema}/tables/{table}/query"),
    ("get", "/delta-sharing/shares/{share}/schemas/{schema}/tables/{table}/changes"),
    ("get", "/delta-sharing/files/{path}"),
    ("head", "/delta-sharing/files/{path}"),
}
# Public by design: open-data portals harvest the open-data feed without a credential.
# No credential: the open-data feed, and masked files whose URL carries its own signature.
PUBLIC_ROUTES = {
    ("get", "/api/v1/open-data/dcat"),
    ("get", "/delta-sharing/files/{path}"),
    ("head", "/delta-sharing/files/{path}"),
}


def test_openapi_lists_every_route_with_its_documented_errors(small_api: Api) -> None:
    response = small_api.client.get("/api/v1/openapi.json")  # public: no key needed
    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["title"] == "govshare exchange API"
    routes = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert routes == EXPECTED_ROUTES
    assert set(spec["components"]["securitySchemes"]) == {"ApiKey", "Bearer", "AccessToken"}
    for method, path in routes - PUBLIC_ROUTES:
        operation = spec["paths"][path][method]
        assert "401" in operation["responses"], (method, path)
        assert operation["security"], (method, path)
        error_422 = operation["responses"].get("422")
        if error_422:  # ours, never FastAPI's default shape
            schema = error_422["content"]["application/json"]["schema"]["$ref"]
            assert schema.endswith("/ValidationErrorOut"), (method, path)
    create = spec["paths"]["/api/v1/resources"]["post"]["responses"]
    assert {"201", "401", "403", "404", "409", "422"} <= set(create)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    docs = small_api.client.get("/api/v1/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_unknown_path_and_wrong_method_use_the_error_shape(small_api: Api) -> None:
    missing = small_api.get("first", "/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "NOT_FOUND"
    wrong = small_api.client.delete("/api/v1/departments", headers=small_api.headers("first"))
    assert wrong.status_code == 405
    assert wrong.json()["errorCode"] == "METHOD_NOT_ALLOWED"


def test_unexpected_error_is_500_internal_error_and_rolls_back(
    catalog: Catalog, settings: Settings, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A test-only route writes, then fails: the caller sees a reference, the log the trace."""
    app = create_app(settings, clock=clock)
    code = make_uscc(77)

    @app.get("/api/v1/boom")
    def boom(ctx: Context, actor: CurrentActor) -> None:
        services.register_department(
            ctx,
            spec=DepartmentIn(code=code, name="临时部门", region_code="330100"),
            actor=actor,
        )
        ctx.session.flush()
        raise RuntimeError("secret internal detail: password=hunter2")

    with catalog.unit() as ctx:
        authority = factories.department(ctx, 1, is_data_authority=True)
        _, key = keys.create_key(
            ctx, department_code=authority.code, role=Role.STEWARD, actor=factories.STEWARD
        )

    caplog.set_level(logging.ERROR, logger="govshare.exchange_api")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/boom", headers={"X-API-Key": key})
    assert response.status_code == 500
    body = response.json()
    assert body["errorCode"] == "INTERNAL_ERROR"
    assert set(body) == {"errorCode", "message"}
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    reference = body["message"].split("错误编号 ")[1].split(" ")[0]
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the stack stays server-side
    with catalog.unit() as ctx:
        assert repository.department_or_none(ctx.session, code) is None  # rolled back
