"""Ingest and theme jobs on a real Spark standalone cluster give what ``local[2]`` gives.

``pipelines.cluster`` starts a master and two workers (one core, little memory each) from
the pyspark distribution, as ``govshare spark up`` does; the same extracts are ingested
(through Spark: ``ingest_local_max_bytes`` 0) and the 一企一档 theme built once on
``local[2]`` and once with ``GOVSHARE_SPARK_MASTER`` pointing at the cluster, each into its
own home and catalogue. Every layer and the theme are then compared row for row, and
``down`` must leave none of the cluster's processes running.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from catalog.store import Catalog
from demo.synth import SynthOptions, synthesise
from infra.settings import Settings
from jobs.batch import ingest_one, landing_files
from lake import delta
from pipelines import cluster
from pipelines.spark import stop_spark
from pipelines.themes.build import build_theme, theme_tables
from pipelines.themes.spec import resolve
from tests.exchange_api.servers import free_port
from tests.pipelines.conftest import set_threshold
from tests.pipelines.test_themes import SOURCES

pytestmark = [pytest.mark.slow, pytest.mark.spark]
RECEIVED = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
TODAY = date(2026, 3, 3)


@pytest.fixture
def spark_cluster(lake_settings: Settings, tmp_path: Path) -> Iterator[str]:
    """A master and two one-core workers under the test's home; stopped and checked after."""
    home = lake_settings.model_copy(update={"home": tmp_path / "cluster-home"})
    spec = cluster.ClusterSpec(
        workers=2, cores=1, memory="1g", port=free_port(), webui_port=free_port()
    )
    stop_spark()  # the process-wide session must be made anew for this master
    state = cluster.up(home, spec)
    try:
        yield state.url
    finally:
        stop_spark()
        cluster.down(home)
        assert cluster.leftovers([*state.worker_pids, state.master_pid]) == []


def _run(settings: Settings, landing: Path) -> dict[str, list[dict[str, Any]]]:
    """Ingest every source extract, build the enterprise theme; every table's rows, sorted."""
    for table, code in SOURCES.items():
        for path in landing_files(settings, table):
            ingest_one(settings, resource_code=code, path=path, clock=lambda: RECEIVED)
    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        spec = resolve(ctx.session, "enterprise")
    catalog.dispose()
    build_theme(settings, spec, today=TODAY)
    stop_spark()
    refs = {
        f"{layer}/{table}": delta.TableRef(settings.lake_path, layer, table)
        for table in SOURCES
        for layer in ("raw", "quarantine", "validated")
    }
    theme, conflicts = theme_tables(settings, spec)
    refs |= {"theme": theme, "conflicts": conflicts}
    out = {}
    for name, ref in refs.items():
        rows = pa.table(delta.read(ref)).to_pylist() if delta.exists(ref) else []
        for row in rows:
            row.pop("_source_file", None)  # the homes' landing folders differ
            row.pop("_built_at", None)  # when the theme build ran (wall clock),
            row.pop("detected_at", None)  # and when it found a conflict
        out[name] = sorted(rows, key=repr)
    return out


def test_ingest_and_theme_on_a_standalone_cluster_equal_local_spark(
    lake_settings: Settings, landing: Path, tmp_path: Path, spark_cluster: str
) -> None:
    synthesise(
        SynthOptions(out=landing, scale=120, seed=5, defect_rate=0.05, min_scale=100,
                     resources=tuple(SOURCES)),
    )  # fmt: skip
    # Publish batches with their defects quarantined (the gate's threshold is not the point).
    set_threshold(lake_settings, 0.0, *SOURCES.values())
    # The second run needs a catalogue of its own in the same seeded state: a file copy.
    if not lake_settings.catalog_url.startswith("sqlite:///"):
        pytest.skip("copies the seeded SQLite catalogue; the engines, not the catalogue, differ")
    catalogue = Path(lake_settings.catalog_url.removeprefix("sqlite:///"))
    shutil.copyfile(catalogue, tmp_path / "cluster-catalog.db")
    results = {}
    for engine, master, url in (
        ("local", "local[2]", lake_settings.catalog_url),
        ("cluster", spark_cluster, f"sqlite:///{tmp_path / 'cluster-catalog.db'}"),
    ):
        settings = lake_settings.model_copy(
            update={
                "home": tmp_path / engine,
                "database_url": url,
                "lake_root": str(tmp_path / engine / "lake"),
                "ingest_local_max_bytes": 0,  # every file through Spark
                "spark_master": master,
                "spark_executor_memory": "512m",
                "spark_driver_memory": "1g",
            }
        )
        results[engine] = _run(settings, landing)
    local, on_cluster = results["local"], results["cluster"]
    assert set(local) == set(on_cluster)
    assert {name: len(rows) for name, rows in local.items()} == {
        name: len(rows) for name, rows in on_cluster.items()
    }
    assert local["theme"] and local[f"validated/{next(iter(SOURCES))}"]
    assert any(local[f"quarantine/{table}"] for table in SOURCES)  # defects were planted
    for name in local:
        differing = sorted(
            {k for a, b in zip(local[name], on_cluster[name], strict=True) for k in a
             if a[k] != b.get(k)}
        )  # fmt: skip
        example = next(
            ((a, b) for a, b in zip(local[name], on_cluster[name], strict=True) if a != b), None
        )
        assert not differing, (name, differing, example)
    print({name: len(rows) for name, rows in local.items()})
