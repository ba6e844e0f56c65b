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


def test_a_kept_catalogue_is_loaded_once_and_reused_with_the_same_queries(
    tmp_path: Path,
) -> None:
    """At a million resources loading takes half an hour: ``--database`` keeps it, and a
    second run measures the same queries on it (``--like-queries`` bounds the baseline)."""
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    argv = ["--resources", "150", "--queries", "8", "--warmup", "1", "--database", url]
    runs = []
    for n in (1, 2):
        out = io.StringIO()
        folder = tmp_path / f"run{n}"
        code = main([*argv, "--like-queries", "5", "--results-dir", str(folder)],
                     console=Console(file=out, width=160))  # fmt: skip
        assert code == 0
        (result_file,) = folder.glob("catalog_search-sqlite-150-*.json")
        runs.append((out.getvalue(), json.loads(result_file.read_text(encoding="utf-8"))))
    (first_out, first), (second_out, second) = runs
    assert "loaded 150 resources" in first_out and "reused the 150 resources" in second_out
    for result in (first, second):
        checked = [m for m in result["measurements"] if m["like_total"] is not None]
        assert len(checked) == 5 and len(result["measurements"]) == 8
        assert all(m["search_total"] == m["like_total"] for m in checked)
    totals = [[m["query"], m["search_total"]] for m in first["measurements"]]
    assert totals == [[m["query"], m["search_total"]] for m in second["measurements"]]


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
