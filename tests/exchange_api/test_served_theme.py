"""A theme built by the real Spark pipeline is served by key lookups that read one row group."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from catalog.store import Catalog
from demo.synth import SynthOptions, synthesise
from jobs.batch import ingest_one, landing_files
from lake import delta
from lake.readers import LakeReader
from pipelines.themes.build import build_theme, theme_tables
from pipelines.themes.spec import resolve
from tests.pipelines.conftest import REGISTRATION, lake_settings, landing  # noqa: F401

pytestmark = pytest.mark.slow


def test_lookup_finds_every_key_of_a_spark_built_theme_in_one_row_group(
    lake_settings,  # noqa: F811
    landing: Path,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    synthesise(SynthOptions(out=landing, scale=300, seed=5, defect_rate=0.0, min_scale=100,
                            resources=("scjg_enterprise_registration",)))  # fmt: skip
    for path in landing_files(lake_settings, "scjg_enterprise_registration"):
        ingest_one(lake_settings, resource_code=REGISTRATION, path=path)
    catalog = Catalog(lake_settings)
    with catalog.unit() as ctx:
        spec = resolve(ctx.session, "enterprise")
    catalog.dispose()
    build_theme(lake_settings, spec, today=date(2026, 3, 3))
    ref, _conflicts = theme_tables(lake_settings, spec)
    expected = {r["统一社会信用代码"]: r["企业名称"] for r in pa.table(delta.read(ref)).to_pylist()}

    reader = LakeReader()
    snapshot = reader.snapshot(ref)
    assert snapshot.buckets == 16  # recorded by the builder in its commit
    for data_file in snapshot.files:
        index = data_file.key_index("统一社会信用代码")
        assert index is not None and index.ordered  # sorted by key within the bucket
    for key, name in expected.items():
        (candidate,) = snapshot.candidates(key)  # one file: the key's bucket
        assert len(candidate.key_index("统一社会信用代码").groups_for(key)) == 1  # type: ignore[union-attr]
        _version, rows = reader.lookup(
            ref, key_column="统一社会信用代码", keys=[key], columns=["企业名称"]
        )
        assert rows[key]["企业名称"] == name
