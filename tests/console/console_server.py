"""A real ``govshare serve`` on a seeded temporary home, and a real Chromium driving it.

The home holds the demo catalogue (``seed_demo``, as ``govshare catalog seed-demo``) and one
API key per role the journeys need, issued through ``catalog.keys`` as ``govshare keys create``
does. The server is the CLI command in a subprocess on a free port, so every request crosses
real HTTP: cookies, redirects, CSP and all.

Chromium is Debian's package driven by Playwright with ``executable_path``
(``playwright install`` is never run). Without it the browser tests are skipped with the reason,
except in CI, where they must run (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from catalog import keys
from catalog.context import Actor, CatalogContext
from catalog.domain import Role
from catalog.store import Catalog
from demo.catalog import DEPT
from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

# Who signs in, as (department key in demo.catalog.DEPT, role).
ROLES = {
    "steward": ("sjj", Role.STEWARD),
    "provider": ("sw", Role.DEPARTMENT),  # 税务: provides 有条件共享 resources
    "requester": ("rs", Role.DEPARTMENT),  # 人社
    "other": ("ga", Role.DEPARTMENT),  # 公安
}


def chromium_path() -> str:
    """Debian's headless shell (``chromium-headless-shell``), else its full Chromium; or a skip
    (a failure in CI) saying why there is none. The shell is what Playwright itself runs
    headless: the same Blink, without the full browser's UI machinery, and the browser tests
    cost a third less CPU on it."""
    for name in ("chromium-headless-shell", "chromium"):
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
        )
        if found:
            return found
    reason = (
        "neither chromium-headless-shell nor chromium is installed (apt-get install -y "
        "chromium-headless-shell); browser tests need one"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI requires the browser tests to run: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """A running console: its URL, home, one API key per role, and where screenshots go."""

    url: str
    home: Path
    keys: dict[str, str]
    shots: Path
    env: dict[str, str] = field(default_factory=dict)
    # Every page visited is screenshotted only when GOVSHARE_CONSOLE_SCREENSHOTS names a folder
    # to keep them (a sixth of the browser tests' CPU); otherwise a failing test's pages are.
    every_page: bool = False

    def department(self, role: str) -> str:
        return DEPT[ROLES[role][0]]


def seed_home(home: Path, extra: Callable[[CatalogContext], None] | None = None) -> dict[str, str]:
    """The demo catalogue, one key per role, and whatever ``extra`` adds in the same unit."""
    settings = Settings(home=home)
    catalog = Catalog(settings)
    catalog.migrate()
    issued = {}
    try:
        from demo.catalog import seed_demo

        with catalog.unit() as ctx:
            seed_demo(ctx)
            for role, (dept, kind) in ROLES.items():
                _key, plaintext = keys.create_key(
                    ctx, department_code=DEPT[dept], role=kind, label=f"console {role}",
                    actor=Actor.steward("test"),
                )  # fmt: skip
                issued[role] = plaintext
            if extra is not None:
                extra(ctx)
    finally:
        catalog.dispose()
    return issued


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``govshare serve`` on a seeded home, one per test module."""
    yield from serve(tmp_path_factory)


def serve(
    tmp_path_factory: pytest.TempPathFactory, extra: Callable[[CatalogContext], None] | None = None
) -> Iterator[Served]:
    """Seed a home (plus ``extra``), start ``govshare serve`` on it, stop it afterwards."""
    base = tmp_path_factory.mktemp("console")
    home = base / "home"
    issued = seed_home(home, extra)
    port = _free_port()
    env = {
        **os.environ,
        "GOVSHARE_HOME": str(home),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("GOVSHARE_DATABASE_URL", None)
    log = (base / "server.log").open("w")
    server = subprocess.Popen(
        [str(VENV_BIN / "govshare"), "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"govshare serve exited: {(base / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/login", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(
                    "govshare serve did not answer within 60 s: "
                    + (base / "server.log").read_text()[-3000:]
                )
            time.sleep(0.2)
        kept = os.environ.get("GOVSHARE_CONSOLE_SCREENSHOTS")
        shots = Path(kept or base / "screenshots")
        shots.mkdir(parents=True, exist_ok=True)
        yield Served(url=url, home=home, keys=issued, shots=shots, env=env, every_page=bool(kept))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the whole session; each test opens its own context (own cookies)."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


class Visit:
    """A browser context for one test: screenshots every page it lands on, and collects any
    Content-Security-Policy violation or script error, which the test then asserts are none."""

    def __init__(self, browser: Any, served: Served, name: str) -> None:
        self.served = served
        self.name = name
        self.context = browser.new_context(base_url=served.url, locale="zh-CN")
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        self.page.on(
            "console",
            lambda message: (
                self.problems.append(f"console: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )
        self.count = 0

    def shot(self, label: str, *, always: bool = False) -> Path:
        """The page as it looks now, when screenshots are kept (or ``always``)."""
        self.count += 1
        path = self.served.shots / f"{self.name}-{self.count:02d}-{label}.png"
        if self.served.every_page or always:
            self.page.screenshot(path=str(path), full_page=True)
        return path

    def goto(self, path: str, label: str) -> Any:
        response = self.page.goto(path)
        self.shot(label)
        return response

    def sign_in(self, role: str) -> None:
        self.goto("/login", "login")
        self.page.get_by_label("访问密钥").fill(self.served.keys[role])
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_url("**/catalog")
        self.shot(f"signed-in-{role}")

    def close(self) -> None:
        self.context.close()
