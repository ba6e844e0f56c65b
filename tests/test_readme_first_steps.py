"""The README's "First steps" work as typed, on a fresh clone (issue 16).

The repository is cloned from the current checkout (its committed HEAD) into a temporary
folder, ``make setup`` runs there (uv from the local cache: seconds, not minutes), and every
line of the fenced ``bash`` blocks of the "First steps" section is run literally with
``bash -c`` in the clone, in a temporary ``GOVSHARE_HOME``, with ``.venv/bin`` on ``PATH`` as
``source .venv/bin/activate`` leaves it. Each must exit 0, or the code its comment states
("# exits 1 here: ..."); ``govshare serve`` is started in the background and its docs page
probed.

Boundary: the "First steps" section, up to the "## Lakehouse" heading. Its first block (setup,
catalogue, keys, serve) always runs. Its second block ("The lakehouse from a fresh home")
runs Spark for the JSON Lines and Parquet sources and the theme build: at the README's scale
(100,000) it took 8 minutes here (2 cores shared with other Spark jobs; both blocks pass),
beyond this test's 3-minute budget, so it
runs only with ``GOVSHARE_E2E_LAKEHOUSE=1``. No line is ``make demo``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START, STOP = "## First steps", "## Lakehouse"


def first_steps_blocks(readme: str) -> list[list[str]]:
    """The command lines of each fenced bash block between the two headings."""
    section = readme.split(START, 1)[1].split(STOP, 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    return [[line for line in block.splitlines() if line.strip()] for block in blocks]


def test_the_first_steps_are_where_this_test_looks() -> None:
    blocks = first_steps_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) == 2
    catalogue, lakehouse = blocks
    assert catalogue[0].startswith("make setup") and catalogue[1].startswith("source .venv")
    assert catalogue[-1].startswith("govshare serve")
    assert lakehouse[0].startswith("govshare synth")
    assert not [line for block in blocks for line in block if line.startswith("make demo")]
    # Importing the catalogue just exported into the same home is refused, and says so; the
    # update mode's dry run lists it as unchanged and exits 0.
    assert [expected_exit(line) for line in catalogue if "catalog import" in line] == [1, 0]


@dataclass
class Clone:
    folder: Path
    env: dict[str, str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Clone:
    base = tmp_path_factory.mktemp("fresh")
    folder = base / "govshare"
    subprocess.run(
        ["git", "clone", "--quiet", str(ROOT), str(folder)], check=True, timeout=120
    )  # the checkout's committed HEAD, as a newcomer gets it
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GOVSHARE_", "VIRTUAL_ENV", "AIRFLOW", "PYSPARK"))
    }
    env["GOVSHARE_HOME"] = str(base / "home")
    # Compiling every installed file to bytecode (uv's compile-bytecode) is 19 CPU s, over
    # half of this test, and uv's work, not the README's; each command compiles what it imports.
    env["UV_SYNC_ARGS"] = "--no-compile-bytecode"
    return Clone(folder=folder, env=env)


def expected_exit(line: str) -> int:
    """0, or the code the line's comment announces ("# exits 1 here: ...")."""
    found = re.search(r"#\s*exits (\d+)", line)
    return int(found.group(1)) if found else 0


def _run(clone: Clone, line: str, *, timeout: float) -> None:
    started = time.perf_counter()
    done = subprocess.run(
        ["bash", "-c", line],
        cwd=clone.folder,
        env=clone.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    took = time.perf_counter() - started
    assert done.returncode == expected_exit(line), (
        f"{line!r} exited {done.returncode} after {took:.1f} s\n"
        f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    )


def _activate(clone: Clone) -> None:
    """What ``source .venv/bin/activate`` leaves behind for the lines after it."""
    venv = clone.folder / ".venv"
    assert (venv / "bin" / "govshare").is_file(), "make setup did not install govshare"
    clone.env["VIRTUAL_ENV"] = str(venv)
    clone.env["PATH"] = f"{venv / 'bin'}{os.pathsep}{clone.env['PATH']}"


def _serve(clone: Clone, line: str) -> None:
    """Start the server in the background, wait for its docs page, stop it."""
    port = 8000
    if _port_taken(port):  # another process here holds the default: same command, other port
        port = _free_port()
        line = f"{line.split('#')[0].strip()} --port {port}"
    server = subprocess.Popen(
        ["bash", "-c", f"exec {line}"],
        cwd=clone.folder,
        env=clone.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[0].decode(errors="replace")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/docs", timeout=5
                ) as answer:
                    page = answer.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert answer.status == 200 and "swagger-ui" in page
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _run_block(clone: Clone, lines: list[str]) -> None:
    for line in lines:
        if line.split("#")[0].strip() == "source .venv/bin/activate":
            _activate(clone)
        elif line.startswith("govshare serve"):
            _serve(clone, line)
        else:
            _run(clone, line, timeout=600)


@pytest.mark.slow
@pytest.mark.e2e
def test_the_first_steps_run_as_typed_on_a_fresh_clone(clone: Clone) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    catalogue = first_steps_blocks((clone.folder / "README.md").read_text(encoding="utf-8"))[0]
    _run_block(clone, catalogue)
    assert (Path(clone.env["GOVSHARE_HOME"]) / "catalog.db").is_file()
    assert (clone.folder / "catalogue.xlsx").is_file()


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.skipif(
    os.environ.get("GOVSHARE_E2E_LAKEHOUSE") != "1",
    reason="the lakehouse block runs Spark for minutes: set GOVSHARE_E2E_LAKEHOUSE=1",
)
def test_the_lakehouse_first_steps_run_as_typed(clone: Clone) -> None:
    if "VIRTUAL_ENV" not in clone.env:  # run alone: the catalogue block sets the clone up
        _run_block(clone, first_steps_blocks((ROOT / "README.md").read_text("utf-8"))[0])
    lakehouse = first_steps_blocks((clone.folder / "README.md").read_text(encoding="utf-8"))[1]
    _run_block(clone, lakehouse)
