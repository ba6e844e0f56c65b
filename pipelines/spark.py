"""The Spark session for pipeline jobs.

One session per process, configured for what the pipelines rely on: GB18030 sources
(``spark.sql.legacy.javaCharsets``), Delta-compatible Parquet timestamps (TIMESTAMP_MICROS),
no UI on a shared server, and caches kept under GOVSHARE_HOME rather than the user's home.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.settings import Settings
from lake.errors import EngineUnavailable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_session: SparkSession | None = None
_watchdog: subprocess.Popen[bytes] | None = None
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")


def check_java() -> str:
    """Spark 4.1 needs Java 17 or 21; say so plainly instead of a JVM stack trace."""
    java = shutil.which("java")
    if java is None and os.environ.get("JAVA_HOME"):
        candidate = os.path.join(os.environ["JAVA_HOME"], "bin", "java")
        java = candidate if os.path.exists(candidate) else None
    if java is None:
        raise EngineUnavailable(
            "未找到 Java：Spark 需要 OpenJDK 17 或 21 (Java not found: install OpenJDK 17)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    return (out.stderr or out.stdout).splitlines()[0] if (out.stderr or out.stdout) else java


def worker_python(settings: Settings) -> str:
    """The interpreter Spark's Python workers run: the deployment's choice, else this one.

    PySpark starts its workers with the ``PYSPARK_PYTHON`` environment variable (default:
    whatever ``python3`` is first on PATH) and ignores the session's ``spark.pyspark.python`` in
    some code paths; the tasks import this project and pyarrow, so an operator running
    ``.venv/bin/govshare`` without the venv on PATH got "No module named pyarrow".
    """
    return settings.spark_python or os.environ.get("PYSPARK_PYTHON") or sys.executable


def _pin_worker_python(settings: Settings) -> str:
    """Export the workers' interpreter before the JVM starts: the launcher and the workers
    read only the process environment, which they inherit from here."""
    python = worker_python(settings)
    os.environ["PYSPARK_PYTHON"] = python
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    return python


def spark_session(settings: Settings) -> SparkSession:
    """The process's Spark session, created on first use (Spark start-up costs seconds)."""
    global _session
    if _session is not None and _session.sparkContext._jsc is not None:  # type: ignore[attr-defined]
        return _session
    check_java()
    python = _pin_worker_python(settings)
    from pyspark.sql import SparkSession

    scratch = (settings.home / "spark").resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.master(settings.spark_master)
        .appName("govshare")
        .config("spark.driver.memory", settings.spark_driver_memory)
        .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
        .config("spark.sql.legacy.javaCharsets", "true")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.session.timeZone", "UTC")
        # Bad input must become null and then a quarantine reason, not a failed job.
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.local.dir", str(scratch / "local"))
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.jars.ivy", str(scratch / "ivy"))
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dderby.system.home={scratch} -Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}",
        )
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # Ingest tasks classify Arrow batches (pipelines.classify): fewer, larger batches
        # spend less per call; 50,000 rows of a wide extract stay well under 100 MB.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "50000")
    )
    # The tasks import this project: they must run in this very environment (or the one the
    # deployment names for its cluster).
    builder = builder.config("spark.pyspark.python", python)
    if not settings.spark_master.startswith("local"):
        builder = _cluster_config(builder, settings, python)
    if settings.spark_delta_jars:
        builder = builder.config(
            "spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension"
        ).config(
            "spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog"
        )
    _session = builder.getOrCreate()
    _session.sparkContext.setLogLevel("ERROR")
    _watch_jvm(_session)
    return _session


def _cluster_config(builder: Any, settings: Settings, python: str) -> Any:
    """Settings for a cluster master: executors start their Python workers with this
    interpreter, and reach the driver at the address they reach the master by when it is
    this machine (a container's hostname may resolve to an address they cannot reach)."""
    builder = builder.config("spark.executorEnv.PYSPARK_PYTHON", python)
    if settings.spark_executor_memory:
        builder = builder.config("spark.executor.memory", settings.spark_executor_memory)
    host = settings.spark_master.removeprefix("spark://").split(":", 1)[0]
    if host in ("127.0.0.1", "localhost"):
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    return builder


def _watch_jvm(session: SparkSession) -> None:
    """Start the watchdog that ends the JVM if this process dies (``pipelines.watchdog``)."""
    global _watchdog
    from pipelines import watchdog

    proc = getattr(session.sparkContext._gateway, "proc", None)  # type: ignore[attr-defined]
    if proc is None:  # a JVM this process did not launch (PYSPARK_GATEWAY_PORT)
        return
    if _watchdog is not None and _watchdog.poll() is None:
        if _watchdog.args[-1] == str(proc.pid):  # type: ignore[index]
            return  # a new session on the same JVM: PySpark keeps its gateway after stop()
        _watchdog.kill()
        _watchdog.wait()
    _watchdog = watchdog.start(proc.pid)


def stop_spark() -> None:
    global _session
    if _session is not None:
        # The JVM outlives stop() (PySpark keeps its gateway), and so does its watchdog.
        _session.stop()
        _session = None
