"""Fixtures for pipeline tests: a seeded catalogue on SQLite, a landing folder, real Spark."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from stdnum.cn import ric, uscc

from catalog.store import Catalog, refresh_snapshot
from infra.settings import Settings
from tests.catalogues import Templates, postgres_url

REGISTRATION = "000001001/000001"
REG_TABLE = "scjg_enterprise_registration"
REG_HEADERS = [
    "统一社会信用代码", "企业名称", "法定代表人", "注册资本", "成立日期", "住所",
    "行政区划代码", "企业状态", "行业代码",
]  # fmt: skip


def company_code(n: int) -> str:
    base = f"91330106{n:09d}"
    return base + uscc.calc_check_digit(base)


def person_id(n: int, birth: str = "19800101") -> str:
    base = f"330106{birth}{n:03d}"
    return base + ric.calc_check_digit(base + "0")


def registration_row(n: int, **overrides: str) -> list[str]:
    row = {
        "统一社会信用代码": company_code(n),
        "企业名称": f"杭州测试{n}有限公司",
        "法定代表人": "张三",
        "注册资本": f"{n * 1000}.50",
        "成立日期": "2021-01-02",
        "住所": "杭州市西湖区文三路1号",
        "行政区划代码": "330106",
        "企业状态": "存续",
        "行业代码": "C13",
    }
    row.update(overrides)
    return [row[h] for h in REG_HEADERS]


def write_csv(
    path: Path, rows: list[list[str]], headers: list[str] = REG_HEADERS, encoding: str = "utf-8"
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


class FixedClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _catalogue_url(tmp_path: Path) -> Iterator[str]:
    """SQLite by default; ``GOVSHARE_TEST_CATALOG=postgresql`` (``make soak``) runs the lake
    tests against a PostgreSQL catalogue, as a province deploys it."""
    if os.environ.get("GOVSHARE_TEST_CATALOG") == "postgresql":
        yield from postgres_url()
    else:
        yield f"sqlite:///{tmp_path / 'catalog.db'}"


@pytest.fixture
def lake_settings(tmp_path: Path, _templates: Templates) -> Iterator[Settings]:
    urls = _catalogue_url(tmp_path)
    settings = Settings(
        home=tmp_path / "home",
        database_url=next(urls),
        landing_dir=tmp_path / "landing",
        spark_master="local[2]",
        spark_shuffle_partitions=2,
    )
    _templates.copy("demo-now", settings)  # migrated and seeded once per session
    refresh_snapshot(settings)  # as seeding's commit hook does
    yield settings
    next(urls, None)  # drops the PostgreSQL schema, if one was made


@pytest.fixture
def landing(lake_settings: Settings) -> Path:
    return lake_settings.landing_dir


def add_steward_rules(
    settings: Settings, *rules: tuple[str, str, dict[str, Any]], code: str = REGISTRATION
) -> None:
    """Stewards' rules ``(item, kind, params)`` on a resource, as the quality CLI adds them."""
    from quality.service import add_rule
    from tests.factories import STEWARD

    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        for item, kind, params in rules:
            add_rule(ctx, resource_code=code, item=item, kind=kind, params=params, actor=STEWARD)
    catalog.dispose()


def set_threshold(settings: Settings, threshold: float, *codes: str) -> None:
    """A steward's per-resource pass-rate threshold (质检入库率), as the quality CLI sets it."""
    from catalog.context import Actor
    from quality.service import set_profile

    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        for code in codes:
            set_profile(ctx, resource_code=code, actor=Actor.steward("测试"), threshold=threshold)
    catalog.dispose()
