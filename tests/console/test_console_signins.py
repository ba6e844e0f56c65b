"""``govshare demo``'s console sign-ins: one live key per role, kept (0600) and reused, and
printed again by ``govshare serve`` with the console's URL."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from catalog import keys
from catalog.domain import Role
from catalog.store import Catalog
from demo.catalog import DEPT
from govshare.commands.console_signins import ensure_signins, read_signins, signins_path
from infra.settings import Settings
from tests.console.console_server import ROOT, VENV_BIN, seed_home
from tests.factories import STEWARD

WANTED = [
    ("审核员", DEPT["sjj"], Role.STEWARD),
    ("提供部门", DEPT["sw"], Role.DEPARTMENT),
    ("需求部门", DEPT["rs"], Role.DEPARTMENT),
]


def test_demo_sign_ins_are_kept_reused_and_replaced_when_revoked(tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed_home(home)
    catalog = Catalog(Settings(home=home))
    try:
        with catalog.unit() as ctx:
            first = ensure_signins(ctx, home, WANTED)
            again = ensure_signins(ctx, home, WANTED)
            assert again == first
            assert stat.S_IMODE(os.stat(signins_path(home)).st_mode) == 0o600
            steward = keys.authenticate(ctx.session, first[0].key)
            assert steward.is_steward and steward.department_code == DEPT["sjj"]
            assert keys.authenticate(ctx.session, first[2].key).department_code == DEPT["rs"]
            keys.revoke_key(ctx, key_id=first[1].key.split("_")[1], actor=STEWARD)
            assert [s.role for s in read_signins(ctx, home)] == ["审核员", "需求部门"]
            replaced = ensure_signins(ctx, home, WANTED)
            assert replaced[1].key != first[1].key and replaced[0] == first[0]
    finally:
        catalog.dispose()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GOVSHARE_HOME": str(home)}
    env.pop("GOVSHARE_DATABASE_URL", None)
    out = tmp_path / "serve.log"
    with out.open("w") as log:
        server = subprocess.Popen(
            [str(VENV_BIN / "govshare"), "serve", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while "演示登录" not in out.read_text() or replaced[2].key not in out.read_text():
                assert server.poll() is None and time.monotonic() < deadline, out.read_text()
                time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=30)
    printed = out.read_text()
    assert f"http://127.0.0.1:{port}/" in printed and "web console" in printed
    for signin in replaced:
        assert signin.key in printed


def test_the_demo_step_prints_the_console_url_and_a_sign_in_per_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govshare.commands import demo
    from infra.settings import get_settings

    home = tmp_path / "home"
    seed_home(home)
    monkeypatch.setenv("GOVSHARE_HOME", str(home))
    monkeypatch.delenv("GOVSHARE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        shown = demo._console()
        assert shown == demo._console()  # run twice (the demo is idempotent): the same keys
    finally:
        get_settings.cache_clear()
    assert demo.CONSOLE_URL in shown
    for role in ("审核员 杭州市数据资源管理局", "提供部门 国家税务总局杭州市税务局", "需求部门"):
        assert role in shown
    assert shown.count("gs_") == 3
