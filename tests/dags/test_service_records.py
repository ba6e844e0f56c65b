"""`govshare airflow status|down` from their pid files: stale records, reused pids, stubborn
processes. Stand-in processes carry "airflow" on their command line; no Airflow is started."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dags import services
from infra.processes import group_alive, launch
from infra.settings import Settings

SLEEPER = "import time; time.sleep(120)"
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"


@pytest.fixture
def home(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'c.db'}")


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:  # whatever a failed assertion left behind
        if process.poll() is None:
            process.kill()
            process.wait()


def _record(settings: Settings, name: str, pid: int) -> None:
    path = services.services_dir(settings) / f"{name}.pid"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "url": "http://127.0.0.1:1"}), encoding="utf-8")


def _fake_service(
    settings: Settings, name: str, code: str, started: list[subprocess.Popen[bytes]]
) -> int:
    process = launch(
        [sys.executable, "-c", code, "airflow", name], env={}, log=services.log_file(settings, name)
    )
    started.append(process)
    _record(settings, name, process.pid)
    return process.pid


def test_status_without_records_says_nothing_runs(home: Settings) -> None:
    found = services.status(home)
    assert found["running"] is False and found["url"] is None
    assert [s["service"] for s in found["services"]] == list(services.SERVICES)
    assert not any(s["alive"] or s["stale"] or s["pid"] for s in found["services"])
    assert services.down(home) == {"stopped": [], "killed": [], "stale": [], "still_running": []}


def test_a_dead_service_is_reported_stale_and_its_pid_file_cleared(home: Settings) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _record(home, "triggerer", gone.pid)

    found = {s["service"]: s for s in services.status(home)["services"]}
    assert found["triggerer"]["stale"] is True and found["triggerer"]["alive"] is False

    assert services.down(home)["stale"] == ["triggerer"]
    assert not (services.services_dir(home) / "triggerer.pid").exists()


def test_a_pid_reused_by_another_program_is_left_alone(
    home: Settings, started: list[subprocess.Popen[bytes]]
) -> None:
    other = launch([sys.executable, "-c", SLEEPER], env={}, log=home.home / "other.log")
    started.append(other)
    _record(home, "scheduler", other.pid)

    outcome = services.down(home)

    assert outcome["stale"] == ["scheduler"] and outcome["stopped"] == []
    assert other.poll() is None  # not ours to stop


def test_down_ends_every_group_and_kills_what_ignores_sigterm(
    home: Settings, started: list[subprocess.Popen[bytes]]
) -> None:
    polite = _fake_service(home, "api-server", SLEEPER, started)
    stubborn = _fake_service(home, "scheduler", STUBBORN, started)
    time.sleep(0.5)  # let the stubborn one install its handler
    assert services.status(home)["services"][0]["alive"] is True

    outcome = services.down(home, grace=1.0)

    assert outcome["stopped"] == ["api-server", "scheduler"]
    assert outcome["killed"] == ["scheduler"] and outcome["still_running"] == []
    assert not group_alive(polite) and not group_alive(stubborn)
    assert services.status(home)["running"] is False
    assert list(services.services_dir(home).glob("*.pid")) == []


def test_admin_password_is_generated_once_and_private(home: Settings) -> None:
    first = services.admin_password(home)
    assert services.admin_password(home) == first and len(first) >= 16
    assert services.passwords_file(home).stat().st_mode & 0o077 == 0
