"""``govshare keys`` through the real command: the printed key is the one the API accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from catalog import keys
from catalog.store import Catalog
from infra.errors import NotAuthenticated
from infra.settings import Settings
from tests import factories


def _govshare(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GOVSHARE_HOME": str(settings.home),
        "GOVSHARE_DATABASE_URL": settings.catalog_url,
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "govshare", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


# The command is the same code on both backends (tests/catalog/test_keys.py runs the key logic
# on both); each subprocess pays ~1.5 s of imports, so this one runs on SQLite only.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_keys_create_list_and_revoke_from_the_command_line(
    catalog: Catalog, settings: Settings
) -> None:
    with catalog.unit() as ctx:
        department = factories.department(ctx, 4)
    created = _govshare(settings, "keys", "create", "--department", department.code, "--json")
    assert created.returncode == 0, created.stderr
    issued = json.loads(created.stdout)
    assert "只显示这一次" in created.stderr  # the warning, kept out of the JSON on stdout
    with catalog.unit() as ctx:
        actor = keys.authenticate(ctx.session, issued["api_key"])
    assert actor.department_code == department.code

    listed = _govshare(settings, "keys", "list", "--department", department.code, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["data"]
    assert [r["key_id"] for r in rows] == [issued["key_id"]]
    assert issued["api_key"].split("_", 2)[2] not in listed.stdout  # never shown again

    revoked = _govshare(settings, "keys", "revoke", issued["key_id"])
    assert revoked.returncode == 0, revoked.stderr
    with catalog.unit() as ctx, pytest.raises(NotAuthenticated):
        keys.authenticate(ctx.session, issued["api_key"])
