"""One settings object for the whole platform.

Values come from ``GOVSHARE_*`` environment variables, then an optional TOML file
(``GOVSHARE_CONFIG`` or ``$GOVSHARE_HOME/govshare.toml``), then the embedded defaults,
so a deployment changes behaviour in configuration and never in code.
"""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _toml_path() -> Path | None:
    """Where the optional TOML file lives; read before Settings exists, hence os.environ."""
    explicit = os.environ.get("GOVSHARE_CONFIG")
    if explicit:
        return Path(explicit)
    home = Path(os.environ.get("GOVSHARE_HOME", ".govshare"))
    candidate = home / "govshare.toml"
    return candidate if candidate.exists() else None


class Settings(BaseSettings):
    """Platform configuration; every field maps to ``GOVSHARE_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="GOVSHARE_", extra="ignore")

    home: Path = Field(default=Path(".govshare"), description="Root of the embedded defaults.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the catalogue; SQLite under home if unset."
    )
    # Airflow's metadata database: on a PostgreSQL catalogue, this schema of the same database
    # (its own alembic_version and tables beside the catalogue's; created if missing); on
    # SQLite, GOVSHARE_HOME/airflow/airflow.db. AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, when set,
    # overrides both (a database of its own, e.g. on another server).
    airflow_schema: str = Field(default="airflow", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    # `govshare dags sync` unpauses the govshare DAGs (Airflow registers new DAGs paused);
    # `govshare airflow up` does unless told --keep-paused.
    airflow_unpause_on_sync: bool = False
    # Seconds a command waits for the catalogue's PostgreSQL server before saying it is down.
    database_connect_timeout: int = Field(default=3, ge=1)
    lake_root: str | None = Field(default=None, description="Lakehouse root URL or folder.")
    # Time travel (govshare lake read --version): every version current at some moment of the
    # last this many hours stays readable; daily maintenance vacuums the files only older
    # versions need. At least an hour, so a job reading a version never loses its files.
    lake_time_travel_hours: float = Field(default=168, ge=1)
    # Maintenance compacts a table with at least this many files (appends add a few per batch).
    lake_compact_min_files: int = Field(default=32, ge=2)
    landing_dir: Path = Field(
        default=Path("data"),
        description="Where departments drop extracts: <landing_dir>/<mount table>/<file>.",
    )
    spark_master: str = Field(default="local[*]", description="local[*] or a cluster URL.")
    spark_driver_memory: str = "4g"
    # Memory of each executor on a cluster (spark.executor.memory); unset: Spark's 1g. A
    # standalone worker's --memory must hold it.
    spark_executor_memory: str | None = None
    spark_shuffle_partitions: int = 8
    # Set when the delta-spark jars are on the cluster's classpath: Spark then writes Delta
    # natively. Without them the embedded default commits Spark-written Parquet with delta-rs.
    spark_delta_jars: bool = False
    # Files up to this size are ingested in-process on pyarrow (the same task pass and rules,
    # no Spark job: a 100-row extract took 95 s through Spark); larger ones by Spark, which
    # scales out. 0 sends every file to Spark.
    ingest_local_max_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # The Python the Spark workers run (PYSPARK_PYTHON); unset: the one running govshare, which
    # has the project and pyarrow installed. Set it for a cluster whose nodes keep it elsewhere.
    spark_python: str | None = None
    # A running ingest renews its batch's lease every third of this; a batch still 处理中 past
    # its lease is marked 失败 (job interrupted) by the next command that reads batches.
    batch_lease_seconds: int = Field(default=300, ge=3)
    # 质检入库率: the pass rate a batch needs to be published, unless its resource sets one.
    quality_threshold: float = Field(default=0.99, ge=0.0, le=1.0)

    # 信息资源代码 = 前段码 + "/" + 后段码; provinces use different widths.
    code_prefix_min: int = 2
    code_prefix_max: int = 20
    code_sequence_width: int = 6

    # Review rules (国发〔2016〕51号): answer conditional demands within 10 working days.
    review_working_days: int = 10
    # Beyond the years the holiday package knows, deployments list the State Council's
    # published holidays and swapped working weekends here.
    extra_holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list)

    default_grant_days: int = 365

    # How a masked person name the exchange serves hides what follows its first character:
    # "fixed" shows 张** whatever the length (the length narrows who it is, GB/T 37964-2019);
    # "per_character" one * per hidden character (李*, 欧***). Masking elsewhere (quality
    # reports) uses the privacy library's default, fixed. See docs/privacy.md.
    name_mask: Literal["fixed", "per_character"] = "fixed"

    # The open-data feed (DCAT-AP): where the exchange API is reached from outside (access
    # URLs point there), the licence open data is published under (CKAN matches it by URL,
    # then by title), the address people write to about it, and the name the platform
    # publishes under when no data authority is registered.
    public_base_url: str = "http://127.0.0.1:8000"
    open_data_license_url: str = "http://www.opendefinition.org/licenses/cc-by"
    open_data_license_title: str = "Creative Commons Attribution"
    open_data_contact_email: str | None = None
    open_data_publisher_name: str = "政务数据共享交换平台"
    search_default_limit: int = 20
    # Who the command line acts as, recorded in history and quality decisions:
    # "steward:张三", "dept:<统一社会信用代码>:李四", or a bare name (a steward). `govshare --as`
    # overrides it for one command; unset, the operating-system login is used ("cli:<login>").
    cli_actor: str | None = None

    @property
    def lineage_events_path(self) -> Path:
        """Where scheduled runs append their OpenLineage events (``dags.lineage``) by default,
        one JSON event a line; the console reads a resource's lineage from there."""
        return self.home.resolve() / "lineage" / "openlineage.jsonl"

    @field_validator("home", mode="before")
    @classmethod
    def _expand_home(cls, value: Any) -> Any:
        return Path(value).expanduser() if isinstance(value, str | Path) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = _toml_path()
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    @property
    def catalog_url(self) -> str:
        """The catalogue database: PostgreSQL when configured, SQLite under home otherwise."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'catalog.db').resolve()}"

    @property
    def lake_path(self) -> str:
        return self.lake_root or str((self.home / "lake").resolve())

    @property
    def airflow_home(self) -> Path:
        return (self.home / "airflow").resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead."""
    return Settings()
