"""Configuration of the data-serving side of the exchange (tokens, privacy, caches).

dlt-style, the stage keeps its own configuration next to its code: ``GOVSHARE_EXCHANGE_*``
environment variables over the defaults below (tests pass an instance). Paths default under
GOVSHARE_HOME, so an embedded deployment needs nothing.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.settings import Settings
from lake.masked import ROWS_PER_FILE
from privacy.disclosure import AGE_BAND_CAP, BirthDateShown
from privacy.units import BudgetPeriod


class ExchangeSettings(BaseSettings):
    """Knobs of data serving; every field maps to ``GOVSHARE_EXCHANGE_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="GOVSHARE_EXCHANGE_", extra="ignore")

    signing_key_path: Path | None = Field(
        default=None,
        description="Ed25519 platform key (PEM); generated on first use. "
        "Default: $GOVSHARE_HOME/keys/platform_ed25519.pem.",
    )
    token_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    min_group_size: int = Field(default=10, ge=2, description="k of small-cell suppression")
    epsilon_per_query: float = Field(default=0.5, gt=0, le=10)
    budget_epsilon: float = Field(
        default=5.0,
        gt=0,
        le=1000,
        description="ε each department may spend per privacy unit (population) and period",
    )
    budget_period: BudgetPeriod = Field(
        default=BudgetPeriod.YEAR, description="how long one ε budget lasts: year/quarter/month"
    )
    max_rows_per_person: int = Field(
        default=1,
        ge=1,
        le=100,
        description="contribution bound: rows of one person a noised aggregate may use",
    )
    dp_delta: float = Field(
        default=1e-6,
        gt=0,
        lt=0.5,
        description="chance a group of one person is released by a noised group-by (δ)",
    )
    birth_date_shown: BirthDateShown = Field(
        default=BirthDateShown.YEAR,
        description="a birth date not granted raw, served beside a masked ID number: "
        "year (出生年份) or age_band (年龄段); docs/privacy.md",
    )
    age_band_width: int = Field(default=10, ge=1, le=50, description="years per age band")
    age_band_cap: int | None = Field(
        default=AGE_BAND_CAP, ge=1, description="ages from here share one open band (80+)"
    )
    batch_max_keys: int = Field(default=1000, ge=1, le=10_000)
    snapshot_refresh_seconds: float = Field(
        default=1.0, ge=0, description="how often a Delta table's version is re-checked"
    )
    extract_batch_rows: int = Field(default=65_536, ge=1024)
    sharing_file_rows: int = Field(
        default=ROWS_PER_FILE,
        ge=1,
        description="rows per masked Delta Sharing file: fewer, larger files cost fewer "
        "requests per read (about eleven a file); smaller ones let predicate hints skip more",
    )
    catalogue_cache_seconds: float = Field(
        default=5.0, ge=0, description="how long a resource's serving metadata is reused"
    )

    # 核验 and lookup quotas, counted in the catalogue database (exchange_api.quotas).
    verify_max_per_case: int = Field(
        default=10, ge=1, description="核验 calls a department may make under one 办件编号"
    )
    verify_max_per_subject_per_day: int = Field(
        default=5, ge=1, description="核验 calls a department may make about one subject a day"
    )
    verify_alert_per_day: int = Field(
        default=200, ge=1, description="a department's daily 核验 calls on one resource above "
        "which the provider is alerted",
    )  # fmt: skip
    lookup_keys_per_grant_per_day: int = Field(
        default=10_000, ge=1, description="keys (profiles and 核验) one grant may look up a day"
    )

    audit_checkpoint_path: Path | None = Field(
        default=None,
        description="Signed checkpoints of the audit chain's head, outside the database. "
        "Default: $GOVSHARE_HOME/audit/checkpoints.jsonl.",
    )
    audit_checkpoint_every: int = Field(
        default=100, ge=1, description="write a checkpoint after every N audit entries"
    )
    audit_group_max: int = Field(
        default=256,
        ge=1,
        le=10_000,
        description="most audit entries one group commit writes in one transaction "
        "(1: one transaction per entry)",
    )

    # The web console (exchange_api.console): a signed-in session ends after this many minutes
    # without a request, and after console_session_hours whatever happens.
    console_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="console session idle expiry (minutes)"
    )
    console_session_hours: int = Field(
        default=12, ge=1, le=7 * 24, description="console session absolute lifetime (hours)"
    )
    # Failed sign-ins (console and POST /token) allowed per window, counted in the database
    # (exchange_api.signins); at the limit, sign-ins are refused until the window ends.
    signin_failures_per_client: int = Field(
        default=10, ge=1, description="failed sign-ins one client address may make per window"
    )
    signin_failures_per_key: int = Field(
        default=20, ge=1, description="failed sign-ins claiming one key id per window "
        "(from any address: higher than per client so one client cannot lock a key out alone)",
    )  # fmt: skip
    signin_window_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="length of a failed-sign-in window (minutes)"
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="when set, /metrics requires `Authorization: Bearer <token>` "
        "(Prometheus' bearer_token); unset, it is open like /healthz and /readyz",
    )
    metrics_dir: Path | None = Field(
        default=None,
        validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="prometheus_client's multiprocess folder (set by govshare serve): "
        "/metrics sums every worker's samples found there",
    )

    def checkpoint_path(self, settings: Settings) -> Path:
        return self.audit_checkpoint_path or (settings.home / "audit" / "checkpoints.jsonl")

    def key_path(self, settings: Settings) -> Path:
        return self.signing_key_path or (settings.home / "keys" / "platform_ed25519.pem")
