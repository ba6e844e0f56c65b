"""``make fuzz``: schemathesis against a real ``govshare serve`` on a seeded demo home.

The home is built in a temporary folder in seconds, without Spark or Airflow: the demo
catalogue (``demo.catalog.seed_demo``), the demo consumer's grants, an API key and an access
token for 人社, and the small lake of the exchange tests (both themes and three validated
tables). The run is bounded (examples per operation and a time budget) and checks one thing
hard: no response is a server error. The exit code is 1 when any response was a 5xx (a
schemathesis check failure) and 0 otherwise; the tool's own errors (health checks, internal
errors) are printed but do not fail the run, since they say nothing about the API.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import httpx

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
MAX_SECONDS = int(os.environ.get("FUZZ_MAX_SECONDS", "150"))
SEED = os.environ.get("FUZZ_SEED", "20261204")
SERVER = "from govshare.cli import main; main()"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _seed(home: Path, lake_dir: Path) -> tuple[str, str]:
    """A migrated, seeded catalogue and a lake; returns (lake root, 人社's API key)."""
    from catalog import keys
    from catalog.context import Actor
    from catalog.store import Catalog
    from demo.catalog import DEPT, seed_demo
    from govshare.commands.demo import _consumer_grants
    from infra.settings import Settings
    from tests.exchange_api.lake_cases import build_lake

    settings = Settings(home=home)
    catalog = Catalog(settings)
    try:
        catalog.migrate()
        with catalog.unit() as ctx:
            seed_demo(ctx)
            _consumer_grants(ctx)
            _key, api_key = keys.create_key(
                ctx, department_code=DEPT["rs"], label="fuzz", actor=Actor.steward("fuzz")
            )
    finally:
        catalog.dispose()
    return build_lake(lake_dir), api_key


def main() -> int:
    from govshare.commands.demo import PERSON_PURPOSE

    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if schemathesis is None:
        print("schemathesis is not installed: run `uv sync` (dev group)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="govshare-fuzz-") as tmp:
        home = Path(tmp, "home")
        home.mkdir()
        lake_root, api_key = _seed(home, Path(tmp, "lake"))
        port = _free_port()
        env = {**os.environ, "GOVSHARE_HOME": str(home), "GOVSHARE_LAKE_ROOT": lake_root}
        env.pop("GOVSHARE_DATABASE_URL", None)
        log_path = Path(tmp, "server.log")
        junit = Path(tmp, "junit.xml")
        with log_path.open("wb") as sink:
            server = subprocess.Popen(
                [sys.executable, "-c", SERVER, "serve", "--port", str(port)],
                env=env, stdout=sink, stderr=subprocess.STDOUT,
            )  # fmt: skip
            origin = f"http://127.0.0.1:{port}"
            try:
                deadline = time.monotonic() + 60
                while True:
                    if server.poll() is not None or time.monotonic() > deadline:
                        print(log_path.read_text(), file=sys.stderr)
                        return 2
                    try:
                        httpx.get(f"{origin}/api/v1/openapi.json", timeout=2)
                        break
                    except httpx.TransportError:
                        time.sleep(0.2)
                token = httpx.post(
                    f"{origin}/api/v1/token", headers={"X-API-Key": api_key}, timeout=10
                ).json()["access_token"]
                command = [
                    schemathesis, "run", f"{origin}/api/v1/openapi.json", "--url", origin,
                    "--checks", "not_a_server_error",
                    "--max-examples", str(MAX_EXAMPLES), "--max-time", str(MAX_SECONDS),
                    "--seed", SEED, "--workers", "2", "--request-timeout", "30",
                    "--phases", "examples,coverage,fuzzing", "--no-color",
                    "--generation-database", "none",
                    "--suppress-health-check", "filter_too_much,too_slow",
                    "--report", "junit", "--report-junit-path", str(junit),
                    "-H", f"X-API-Key: {api_key}",
                    "-H", f"Authorization: Bearer {token}",
                    "-H", f"X-Purpose: {quote(PERSON_PURPOSE)}",
                ]  # fmt: skip
                result = subprocess.run(command, check=False, timeout=MAX_SECONDS + 120)
            finally:
                server.terminate()
                server.wait(timeout=30)
        failures, tool_errors = _outcomes(junit)
        server_500 = [
            line for line in log_path.read_text(errors="replace").splitlines() if " 500 " in line
        ]
        print(
            f"fuzz: {len(failures)} operations with 5xx responses, {len(server_500)} access-log "
            f"lines with 500, {len(tool_errors)} schemathesis errors (not API failures); "
            f"schemathesis exit code {result.returncode}"
        )
        for name in failures:
            print(f"  5xx: {name}")
        return 1 if failures or server_500 else 0


def _outcomes(junit: Path) -> tuple[list[str], list[str]]:
    """Operations with a failed check (only ``not_a_server_error`` runs) and with tool errors."""
    if not junit.exists():
        return ["(no report: schemathesis did not finish)"], []
    failures, errors = [], []
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name", "?")
        if case.find("failure") is not None:
            failures.append(name)
        if case.find("error") is not None:
            errors.append(name)
    return failures, errors


if __name__ == "__main__":
    sys.exit(main())
