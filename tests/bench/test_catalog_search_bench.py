"""The search benchmark runs end to end on a small catalogue; speed is never asserted."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine, MetaData, select

from bench import catalog_data
from bench.catalog_search import main
from catalog import services
from catalog.store import Catalog
from infra.settings import Settings
from tests.factories import STEWARD


def test_benchmark_prints_the_table_and_writes_agreeing_counts(tmp_path: Path) -> None:
    out = io.StringIO()
    argv = ["--resources", "200", "--queries", "10", "--warmup", "2", "--seed", "7"]
    code = main([*argv, "--results-dir", str(tmp_path)], console=Console(file=out, width=160))

    printed = out.getvalue()
    assert "search vs LIKE" in printed and "filter: department" in printed
    (result_file,) = tmp_path.glob("catalog_search-sqlite-200-*.json")
    result = json.loads(result_file.read_text(encoding="utf-8"))
    assert result["load"]["resources"] == 200 and len(result["measurements"]) == 10
    assert result["mismatches"] == [] and code == 0
    assert all(m["search_total"] == m["like_total"] for m in result["measurements"])
    assert any(m["like_total"] > 0 for m in result["measurements"])


def _rows(engine: Engine, table: str) -> list[tuple[object, ...]]:
    meta = MetaData()
    meta.reflect(engine, only=[table])
    t = meta.tables[table]
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(t).order_by(*t.primary_key.columns))]


def test_bulk_loader_writes_the_rows_the_service_writes(tmp_path: Path) -> None:
    depts = catalog_data.departments()
    generated = list(catalog_data.resources(12, depts, seed=3))

    bulk = Catalog(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'bulk.db'}"))
    bulk.migrate()
    catalog_data.load(bulk.engine, depts, generated)

    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'service.db'}")
    service = Catalog(settings, clock=lambda: catalog_data.LOADED_AT)
    service.migrate()
    with service.unit() as ctx:
        for dept in depts:
            services.register_department(ctx, spec=dept.spec, actor=STEWARD)
        for resource in generated:
            services.create_resource(ctx, spec=resource.spec, actor=STEWARD, state=resource.state)

    for table in ("departments", "resources", "data_items", "search_docs"):
        assert _rows(bulk.engine, table) == _rows(service.engine, table), table
    bulk.dispose()
    service.dispose()
