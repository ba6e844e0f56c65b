"""An unreachable catalogue database: one line that names it and says what to do, exit 3."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(home: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOVSHARE_HOME": str(home), "GOVSHARE_DATABASE_URL": url}
    env["COLUMNS"] = "80"  # a narrow terminal must not wrap the message either
    return subprocess.run(
        [sys.executable, "-m", "govshare", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args", [("catalog", "list"), ("init",), ("ingest", "--all")], ids=["list", "init", "ingest"]
)
def test_closed_postgresql_port_gives_one_line_naming_the_database(tmp_path, args) -> None:
    port = _closed_port()
    url = f"postgresql://govshare:s3cret@127.0.0.1:{port}/catalogue"

    done = _run(tmp_path / "home", url, *args)

    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr  # no traceback
    [line] = lines
    assert "无法连接目录库" in line and f"127.0.0.1:{port}/catalogue" in line
    assert "s3cret" not in line and "***" in line  # the password is hidden
    assert "GOVSHARE_DATABASE_URL" in line  # what to fix
    assert "Traceback" not in done.stderr + done.stdout


def test_sqlite_catalogue_in_an_impossible_folder_gives_one_line(tmp_path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the catalogue's folder should be", encoding="utf-8")
    url = f"sqlite:///{blocker / 'catalog.db'}"

    done = _run(tmp_path / "home", url, "catalog", "list")

    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "无法打开目录库" in lines[0], done.stderr
    assert str(blocker) in lines[0]
