"""Airflow 3.1's services as real processes on this machine: ``govshare airflow up|down|status``.

``up`` migrates the metadata database and registers (and by default unpauses) the DAGs in
this process (``dags.runner.sync``), then starts the scheduler (LocalExecutor: tasks run as
its children), the dag-processor, the triggerer (deferred ``wait_for_files`` sensors wait
there, holding no worker slot) and the api-server (UI and REST API), each detached in its
own process group with its pid file and log under ``GOVSHARE_HOME/airflow/services``; it
returns once the api-server's health endpoint reports every component healthy. ``down`` ends
each group (SIGTERM, SIGKILL after a grace period), so nothing keeps running.

Sign-in uses Airflow's simple auth manager: the user ``admin`` (role admin) with a password
generated once and kept in ``GOVSHARE_HOME/airflow/simple_auth_manager_passwords.json.generated``
(mode 0600), the file Airflow itself reads. The metadata database is ``dags.runner``'s choice
(PostgreSQL beside a PostgreSQL catalogue, SQLite otherwise); on SQLite the scheduler runs one
task at a time (``parallelism`` 1), since SQLite takes one writer at a time.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dags.runner import configure_airflow, sync
from infra.errors import ConfigurationError, GovshareError
from infra.processes import cmdline, end_groups, group_alive, launch
from infra.settings import Settings

# Start order: the api-server last, so its health check sees the others' heartbeats.
SERVICES = ("scheduler", "dag-processor", "triggerer", "api-server")
ADMIN_USER = "admin"
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"


class ServicesError(GovshareError):
    """Airflow's services could not be started or stopped as asked."""

    status_code = 503
    error_code = "AIRFLOW_SERVICES"


@dataclass(frozen=True)
class UpOptions:
    """What ``govshare airflow up`` starts and how long it waits for it."""

    host: str = "127.0.0.1"
    port: int = 8080
    # The scheduler's and the triggerer's task-log servers (Airflow's defaults).
    log_port: int = 8793
    trigger_log_port: int = 8794
    unpause: bool = True
    wait_seconds: float = 180.0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def services_dir(settings: Settings) -> Path:
    return settings.airflow_home / "services"


def _pid_file(settings: Settings, name: str) -> Path:
    return services_dir(settings) / f"{name}.pid"


def log_file(settings: Settings, name: str) -> Path:
    return services_dir(settings) / f"{name}.log"


def passwords_file(settings: Settings) -> Path:
    return settings.airflow_home / PASSWORDS_FILE


def _is_airflow(pid: int) -> bool:
    """The pid runs an Airflow service (not a pid the system has since given to another).

    ``python -m airflow <service>``, the ``airflow`` script, or the title Airflow gives its
    processes; a path merely containing "airflow" is not enough.
    """
    parts = cmdline(pid).split(b"\0")
    return any(
        p == b"airflow" or p.startswith(b"airflow ") or p.endswith(b"/airflow") for p in parts
    )


def _read_pid(settings: Settings, name: str) -> dict[str, Any] | None:
    path = _pid_file(settings, name)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("pid"), int) else None


def _running(record: dict[str, Any] | None) -> bool:
    return record is not None and _is_airflow(record["pid"]) and group_alive(record["pid"])


def status(settings: Settings) -> dict[str, Any]:
    """Each service: its pid, whether it runs, its log; and where the UI answers."""
    services = []
    url = None
    for name in SERVICES:
        record = _read_pid(settings, name)
        alive = _running(record)
        if name == "api-server" and record is not None:
            url = record.get("url")
        services.append(
            {
                "service": name,
                "pid": record["pid"] if record else None,
                "alive": alive,
                "stale": record is not None and not alive,
                "log": str(log_file(settings, name)),
            }
        )
    return {
        "running": all(s["alive"] for s in services),
        "url": url,
        "services": services,
        "home": str(settings.airflow_home),
    }


def admin_password(settings: Settings) -> str:
    """The admin's password for the UI and ``/auth/token``, generated on first use."""
    path = passwords_file(settings)
    try:
        known = json.loads(path.read_text(encoding="utf-8") or "{}")
    except FileNotFoundError:
        known = {}
    except ValueError as error:
        raise ConfigurationError(
            f"Airflow 密码文件无法解析 (unreadable passwords file): {path}"
        ) from error
    if ADMIN_USER not in known:
        known[ADMIN_USER] = secrets.token_urlsafe(12)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(json.dumps(known) + "\n")
    return str(known[ADMIN_USER])


def _jwt_secret(settings: Settings) -> str:
    """The key every service signs and checks task and UI tokens with, kept in a 0600 file.

    Each Airflow process otherwise may fall back to a random key of its own, and tasks then
    fail with "Invalid auth token: Signature verification failed".
    """
    path = settings.airflow_home / "jwt_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


def service_environment(settings: Settings, options: UpOptions) -> dict[str, str]:
    """The services' environment: govshare's Airflow settings and where the API answers."""
    configure_airflow(settings)  # exports the Airflow environment into os.environ
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW__API__BASE_URL": options.url,
            # Task processes report to the api-server's execution API.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{options.url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(settings)),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(options.log_port),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(options.trigger_log_port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", _jwt_secret(settings))
    if env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite"):
        # One writer at a time: the scheduler runs one task at a time on SQLite.
        env.setdefault("AIRFLOW__CORE__PARALLELISM", "1")
    return env


def _command(name: str, options: UpOptions) -> list[str]:
    base = [sys.executable, "-m", "airflow", name]
    if name == "api-server":
        return [*base, "--host", options.host, "--port", str(options.port)]
    return base


def _health(url: str) -> dict[str, str] | None:
    """The status of each component as the api-server reports it, None while it is down."""
    import httpx

    try:
        answer = httpx.get(f"{url}/api/v2/monitor/health", timeout=2.0)
    except httpx.HTTPError:
        return None
    if answer.status_code != 200:
        return None
    body = answer.json()
    return {part: str(body[part].get("status")) for part in body if isinstance(body[part], dict)}


def _log_tail(settings: Settings, name: str, chars: int = 1500) -> str:
    try:
        return log_file(settings, name).read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def up(
    settings: Settings,
    options: UpOptions,
    *,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Migrate, register the DAGs, start the four services; return once all are healthy."""
    running = [s["service"] for s in status(settings)["services"] if s["alive"]]
    if running:
        raise ServicesError(
            f"Airflow 服务已在运行 (already running): {', '.join(running)}；"
            "先运行 govshare airflow down (run govshare airflow down first)"
        )
    env = service_environment(settings, options)
    progress("迁移元数据库并登记 DAG (migrating the metadata DB, registering DAGs)")
    registered = sync(settings, configure=False, unpause=options.unpause)
    password = admin_password(settings)
    folder = services_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    started: list[int] = []
    try:
        for name in SERVICES:
            progress(f"启动 (starting) {name}")
            process = launch(
                _command(name, options), env=env, log=log_file(settings, name),
                cwd=settings.airflow_home,
            )  # fmt: skip
            started.append(process.pid)
            record = {"pid": process.pid, "started_at": time.time(), "url": options.url}
            _pid_file(settings, name).write_text(json.dumps(record), encoding="utf-8")
        _wait_healthy(settings, options, progress)
    except BaseException:
        end_groups(started, grace=10)
        for name in SERVICES:
            _pid_file(settings, name).unlink(missing_ok=True)
        raise
    return {
        "url": options.url,
        "user": ADMIN_USER,
        "password": password,
        "passwords_file": str(passwords_file(settings)),
        "dags": registered["dags"],
        "unpaused": registered["unpaused"],
        "executor": env.get("AIRFLOW__CORE__EXECUTOR", "LocalExecutor"),
        "database": _backend(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]),
        **status(settings),
    }


def _backend(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0]


def _wait_healthy(settings: Settings, options: UpOptions, progress: Callable[[str], None]) -> None:
    """Poll the api-server's health endpoint until every component reports healthy."""
    deadline = time.monotonic() + options.wait_seconds
    last = ""
    while True:
        for name in SERVICES:
            record = _read_pid(settings, name)
            if not _running(record):
                raise ServicesError(
                    f"Airflow {name} 启动后退出 (exited after start)，日志 (log) "
                    f"{log_file(settings, name)}:\n{_log_tail(settings, name)}"
                )
        health = _health(options.url)
        if health is not None:
            waiting = sorted(part for part, state in health.items() if state != "healthy")
            if not waiting:
                return
            note = f"等待 (waiting for) {', '.join(waiting)}"
        else:
            note = f"等待 api-server 应答 (waiting for {options.url})"
        if note != last:
            progress(note)
            last = note
        if time.monotonic() > deadline:
            raise ServicesError(
                f"Airflow 服务 {options.wait_seconds:.0f} 秒内未就绪 (not healthy in time): "
                f"{note}；"
                f"日志 (logs): {services_dir(settings)}"
            )
        time.sleep(1.0)


def down(settings: Settings, *, grace: float = 20.0) -> dict[str, Any]:
    """Stop every recorded service (its whole process group); stale pid files are removed."""
    stale: list[str] = []
    groups: dict[str, int] = {}
    for name in SERVICES:
        record = _read_pid(settings, name)
        if record is None:
            continue
        pid = record["pid"]
        reused = bool(cmdline(pid)) and not _is_airflow(pid)
        if not reused and group_alive(pid):
            groups[name] = pid  # running, or its leader died and its children did not
        else:
            stale.append(name)  # gone, or the pid now belongs to something else: leave it
    killed = end_groups(groups.values(), grace=grace)
    stopped = sorted(groups)
    left = [name for name, pid in groups.items() if group_alive(pid)]
    for name in SERVICES:
        if name not in left:
            _pid_file(settings, name).unlink(missing_ok=True)
    return {
        "stopped": stopped,
        "killed": sorted(n for n, pid in groups.items() if pid in killed),
        "stale": stale,
        "still_running": left,
    }
