"""Settings come from GOVSHARE_* variables, then an optional TOML file, then defaults."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from infra.settings import Settings


def test_defaults_live_under_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GOVSHARE_DATABASE_URL", raising=False)
    monkeypatch.setenv("GOVSHARE_HOME", str(tmp_path / "h"))
    settings = Settings()
    assert settings.catalog_url == f"sqlite:///{(tmp_path / 'h' / 'catalog.db').resolve()}"
    assert settings.lake_path == str((tmp_path / "h" / "lake").resolve())
    assert settings.airflow_home == (tmp_path / "h" / "airflow").resolve()
    assert settings.review_working_days == 10


def test_toml_file_in_home_is_read_and_env_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "govshare.toml").write_text(
        "review_working_days = 15\ncode_sequence_width = 4\nextra_holidays = [2027-02-08]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GOVSHARE_HOME", str(home))
    monkeypatch.setenv("GOVSHARE_CODE_SEQUENCE_WIDTH", "5")
    settings = Settings()
    assert settings.review_working_days == 15
    assert settings.code_sequence_width == 5
    assert settings.extra_holidays == [date(2027, 2, 8)]


def test_explicit_config_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "prod.toml"
    config.write_text('database_url = "postgresql://db.example/govshare"\n', encoding="utf-8")
    monkeypatch.setenv("GOVSHARE_CONFIG", str(config))
    monkeypatch.delenv("GOVSHARE_DATABASE_URL", raising=False)
    assert Settings().catalog_url == "postgresql://db.example/govshare"
