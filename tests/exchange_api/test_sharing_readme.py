"""The README's three Delta Sharing lines after ``make demo`` work as typed (issue 19).

``make demo`` takes minutes (Spark, Airflow), so this test builds what the lines depend on the
way the demo does: the demo catalogue, the demo's own consumer grants
(``govshare.commands.demo._consumer_grants``, so 人社's 一人一档 grant has the id the README's
table name carries) and a person theme in the lake. ``govshare serve &`` is an in-process
server on a free port (8000 may be taken here); the profile line runs as typed with
``--endpoint`` pointing at it; the ``python -c`` line runs as typed.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from catalog import repository
from catalog.store import Catalog
from demo.catalog import DEPT, PERSON_THEME
from exchange_api.app import create_app
from govshare.commands.demo import _consumer_grants
from infra.settings import Settings
from tests.catalogues import Clock
from tests.exchange_api.lake_cases import build_lake

ROOT = Path(__file__).resolve().parents[2]
SECTION = "### Delta Sharing after `make demo`"


def readme_lines() -> list[str]:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split(SECTION, 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    return [line.split("  #", 1)[0].strip() for line in block[1].splitlines() if line.strip()]


def test_the_readme_has_the_three_lines() -> None:
    serve, profile, read = readme_lines()
    assert serve == "govshare serve &"
    assert profile.startswith("govshare sharing profile --department ")
    assert read.startswith("python -c ") and "delta_sharing.load_as_pandas(" in read


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_readme_lines_read_the_demo_grant_masked(
    demo_catalog: Catalog, settings: Settings, clock: Clock, tmp_path: Path,
    exchange_settings: Any,
) -> None:  # fmt: skip
    _serve_line, profile, read = readme_lines()
    with demo_catalog.unit() as ctx:
        _consumer_grants(ctx)  # what the demo's exchange step does, on the same catalogue
        department = repository.department(ctx.session, DEPT["rs"])
        for grant in repository.grants(ctx.session, department_id=department.id):
            # The README is read on a fresh demo home: the grant is not expired in any year.
            grant.expires_at = clock() + timedelta(days=36_500)
            if grant.resource.code == PERSON_THEME:
                person_grant = grant.id
    url = re.search(r'load_as_pandas\("([^"]+)"\)', read)
    assert url is not None
    assert url[1] == f"rs.share#{DEPT['rs']}.themes.theme_person_g{person_grant}"
    assert f"--department {DEPT['rs']} " in profile

    lake = build_lake(tmp_path / "lake")
    served = settings.model_copy(update={"lake_root": lake})
    app = create_app(served, clock=clock, exchange_settings=exchange_settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    work = tmp_path / "analyst"
    work.mkdir()
    env = {
        **os.environ,
        "GOVSHARE_HOME": str(settings.home),
        "GOVSHARE_DATABASE_URL": settings.catalog_url,
        "GOVSHARE_LAKE_ROOT": lake,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "COLUMNS": "200",
    }
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}/delta-sharing"
        made = subprocess.run(
            ["bash", "-c", f"{profile} --endpoint {endpoint}"], cwd=work, env=env,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert url[1] in made.stdout  # the command prints the URL the README uses
        done = subprocess.run(
            ["bash", "-c", read], cwd=work, env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    assert done.returncode == 0, done.stderr
    assert "身份证号" in done.stdout and "姓名" in done.stdout
    assert re.search(r"\d\*{10,}\d", done.stdout)  # ID numbers arrive masked
