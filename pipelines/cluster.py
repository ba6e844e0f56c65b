"""A Spark standalone cluster on this machine, started from the pyspark distribution.

The pyspark wheel carries Spark's jars and ``bin/spark-class`` but not the ``sbin`` start
scripts, so ``govshare spark up`` launches the master and each worker itself
(``spark-class org.apache.spark.deploy.master.Master`` / ``...worker.Worker``), each in its
own process group with its log, pid and work folder under ``GOVSHARE_HOME/spark-cluster``.
Executors are children of their worker (same process group) and run the deployment's Python
(``PYSPARK_PYTHON``), so ``down`` ends a worker's group and leaves nothing running. Jobs go
to the cluster when ``GOVSHARE_SPARK_MASTER`` is its URL (``spark://127.0.0.1:7077``).

For several machines the same classes run on each node (``Worker spark://master:7077``), with
the project's environment installed there and the lake on a path every node shares (NFS, or
object storage through the lake URL): docs/deploy.md.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from infra.processes import end_groups, group_alive, launch
from infra.settings import Settings
from lake.errors import EngineUnavailable
from pipelines.spark import check_java, worker_python

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
REGISTERED = "Successfully registered with master"


@dataclass(frozen=True)
class ClusterSpec:
    """What ``govshare spark up`` starts: one master, ``workers`` workers of this size."""

    workers: int = 2
    cores: int = 1
    memory: str = "1g"
    host: str = "127.0.0.1"
    port: int = 7077
    webui_port: int = 8090  # not Spark's 8080: Airflow's api-server takes that one


@dataclass
class ClusterState:
    """What is running, as written to ``cluster.json`` (pids are process-group leaders)."""

    url: str
    master_pid: int
    worker_pids: list[int]
    webui: str
    spec: dict[str, Any] = field(default_factory=dict)
    started_at: float = 0.0


def cluster_dir(settings: Settings) -> Path:
    return settings.home / "spark-cluster"


def _state_file(settings: Settings) -> Path:
    return cluster_dir(settings) / "cluster.json"


def _spark_class() -> Path:
    from pyspark.find_spark_home import _find_spark_home

    launcher = Path(_find_spark_home()) / "bin" / "spark-class"
    if not launcher.exists():
        raise EngineUnavailable(f"pyspark 发行包中没有 bin/spark-class ({launcher})")
    return launcher


def alive(pid: int) -> bool:
    """The pid runs a Spark daemon (not a recycled pid of something else)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"org.apache.spark.deploy" in cmdline


def read_state(settings: Settings) -> ClusterState | None:
    path = _state_file(settings)
    if not path.exists():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    return ClusterState(**raw)


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def _wait_for(what: str, ready: Any, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while not ready():
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise EngineUnavailable(f"Spark {what} 启动失败 (exited {process.returncode}):\n{tail}")
        if time.monotonic() > deadline:
            raise EngineUnavailable(f"Spark {what} 90 秒内未就绪 (not ready), 见 {log}")
        time.sleep(0.2)


def _launch(args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return launch(args, env=env, log=log)


def up(settings: Settings, spec: ClusterSpec) -> ClusterState:
    """Start a master and ``spec.workers`` workers; return once every worker registered."""
    running = read_state(settings)
    if running is not None and alive(running.master_pid):
        raise EngineUnavailable(
            f"Spark 集群已在运行 (already running) at {running.url}; 先 govshare spark down"
        )
    check_java()
    launcher = str(_spark_class())
    home = cluster_dir(settings).resolve()
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    python = worker_python(settings)
    env = {
        **os.environ,
        "PYSPARK_PYTHON": python,  # the executors' Python workers: this environment's
        "SPARK_LOG_DIR": str(logs),
        "SPARK_LOCAL_DIRS": str(home / "local"),
        "SPARK_WORKER_DIR": str(home / "work"),
        "SPARK_NO_DAEMONIZE": "1",
    }
    url = f"spark://{spec.host}:{spec.port}"
    master_log = logs / "master.log"
    master = _launch(
        [launcher, MASTER_CLASS, "--host", spec.host, "--port", str(spec.port),
         "--webui-port", str(spec.webui_port)],
        env=env, log=master_log,
    )  # fmt: skip
    started: list[subprocess.Popen[bytes]] = [master]
    try:
        _wait_for("master", lambda: _port_open(spec.host, spec.port), master, master_log)
        for n in range(1, spec.workers + 1):
            work = home / "work" / f"worker-{n}"
            work.mkdir(parents=True, exist_ok=True)
            log = logs / f"worker-{n}.log"
            worker = _launch(
                [launcher, WORKER_CLASS, url, "--host", spec.host, "--cores", str(spec.cores),
                 "--memory", spec.memory, "--work-dir", str(work),
                 "--webui-port", str(spec.webui_port + n)],
                env=env, log=log,
            )  # fmt: skip
            started.append(worker)
            _wait_for(
                f"worker {n}", lambda log=log: REGISTERED in log.read_text(errors="replace"),
                worker, log,
            )  # fmt: skip
    except BaseException:
        for process in reversed(started):
            _end_group(process.pid)
        raise
    state = ClusterState(
        url=url, master_pid=master.pid, worker_pids=[p.pid for p in started[1:]],
        webui=f"http://{spec.host}:{spec.webui_port}", spec=asdict(spec),
        started_at=time.time(),
    )  # fmt: skip
    _state_file(settings).write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
    return state


def _end_group(pid: int, *, grace: float = 15.0) -> None:
    """SIGTERM the process group led by ``pid``, SIGKILL what is left after ``grace``."""
    end_groups([pid], grace=grace)


def _group_alive(pgid: int) -> bool:
    return group_alive(pgid)


def down(settings: Settings) -> list[int]:
    """Stop the workers (with their executors), then the master; the pids that were ended."""
    state = read_state(settings)
    if state is None:
        return []
    ended = []
    for pid in [*state.worker_pids, state.master_pid]:
        if _group_alive(pid):
            _end_group(pid)
            ended.append(pid)
    _state_file(settings).unlink(missing_ok=True)
    return ended


def leftovers(pids: list[int]) -> list[int]:
    """Of these process groups, the ones with anything still running."""
    return [pid for pid in pids if _group_alive(pid)]


def status(settings: Settings) -> dict[str, Any]:
    """What is recorded and what of it runs: master, workers, and whether the port answers."""
    state = read_state(settings)
    if state is None:
        return {"running": False, "url": None, "master": None, "workers": []}
    host, port = state.url.removeprefix("spark://").rsplit(":", 1)
    return {
        "running": alive(state.master_pid) and _port_open(host, int(port)),
        "url": state.url,
        "webui": state.webui,
        "master": {"pid": state.master_pid, "alive": alive(state.master_pid)},
        "workers": [{"pid": pid, "alive": alive(pid)} for pid in state.worker_pids],
        "logs": str(cluster_dir(settings) / "logs"),
    }
