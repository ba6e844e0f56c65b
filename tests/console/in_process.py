"""Signing in to the console app in-process (``TestClient``), shared by the console tests
that need no browser: the CSRF token of a page, one key per role, and the sign-in form."""

from __future__ import annotations

import re
from collections.abc import Mapping

import httpx
from fastapi.testclient import TestClient

from catalog import keys
from catalog.context import CatalogContext
from catalog.domain import Role
from demo.catalog import DEPT
from tests.factories import STEWARD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: TestClient, path: str) -> str:
    """The CSRF token a page's forms carry."""
    token = TOKEN.search(client.get(path).text)
    assert token is not None, path
    return token.group(1)


def issue_keys(ctx: CatalogContext, roles: Mapping[str, tuple[str, Role]]) -> dict[str, str]:
    """One API key per role ``{role: (demo department, role kind)}``: role → plaintext."""
    return {
        role: keys.create_key(ctx, department_code=DEPT[dept], role=kind, actor=STEWARD)[1]
        for role, (dept, kind) in roles.items()
    }


def sign_in(client: TestClient, key: str) -> httpx.Response:
    """Post the sign-in form with ``key``, as a person would; the caller judges the answer."""
    return client.post(
        "/login",
        data={"api_key": key, "csrf_token": csrf(client, "/login")},
        follow_redirects=False,
    )
