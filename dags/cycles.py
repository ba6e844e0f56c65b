"""From the capability list to the DAGs it implies: ids, schedules, waits and deadlines.

Pure data, no Airflow import: the DAG factory builds DAGs from these specs and
``govshare dags list`` shows them, so both always agree.

Timing follows the catalogue's 更新周期 in Beijing time. Periodic resources run at 20:00 on
their cycle day, which leaves the evening to publish before midnight: DOMAIN.md's rule is
that data is pushed the same day it is produced, so every run's deadline is the end of the
Beijing calendar day it was due on. 实时 resources are polled every five minutes. A mount's
``config["schedule"]`` (a cron expression) overrides the default for that mount.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from catalog.domain import UpdateCycle

DAG_PREFIX = "govshare_ingest_"
THEME_DAG_ID = "govshare_themes"
MAINTENANCE_DAG_ID = "govshare_maintenance"
# Daily lake maintenance at 03:00 Beijing time, after the 20:00 pushes and the theme refresh.
MAINTENANCE_CRON = "0 3 * * *"
# Stewards' release and reject orders reach the lake within minutes (the API only records them).
GATE_ORDERS_DAG_ID = "govshare_gate_orders"
GATE_ORDERS_CRON = "*/5 * * * *"
TIMEZONE = "Asia/Shanghai"
# The same zone as catalog.context.CHINA_TZ, named here so parsing a DAG file stays light.
CHINA_TZ = ZoneInfo(TIMEZONE)


@dataclass(frozen=True)
class Timing:
    """When a cycle runs and how long its run waits for a file before giving up quietly."""

    cron: str
    wait: timedelta
    poke_every: timedelta
    label: str


TIMINGS: dict[UpdateCycle, Timing] = {
    UpdateCycle.REALTIME: Timing(
        "*/5 * * * *", timedelta(minutes=4), timedelta(seconds=30), "每5分钟"
    ),
    UpdateCycle.DAILY: Timing("0 20 * * *", timedelta(hours=3), timedelta(minutes=5), "每日20:00"),
    UpdateCycle.WEEKLY: Timing(
        "0 20 * * 5", timedelta(hours=3), timedelta(minutes=5), "每周五20:00"
    ),
    UpdateCycle.MONTHLY: Timing(
        "0 20 1 * *", timedelta(hours=3), timedelta(minutes=5), "每月1日20:00"
    ),
    UpdateCycle.QUARTERLY: Timing(
        "0 20 1 1,4,7,10 *", timedelta(hours=3), timedelta(minutes=5), "每季度首日20:00"
    ),
    UpdateCycle.HALF_YEARLY: Timing(
        "0 20 1 1,7 *", timedelta(hours=3), timedelta(minutes=5), "每半年首日20:00"
    ),
    UpdateCycle.YEARLY: Timing(
        "0 20 1 1 *", timedelta(hours=3), timedelta(minutes=5), "每年1月1日20:00"
    ),
    # No fixed cycle: look once a day and skip quietly when nothing arrived.
    UpdateCycle.IRREGULAR: Timing(
        "0 20 * * *", timedelta(minutes=1), timedelta(seconds=30), "每日检查"
    ),
}


@dataclass(frozen=True)
class DagSpec:
    """One generated DAG: an ingest DAG per capability, or the theme DAG."""

    dag_id: str
    kind: str  # "ingest" | "themes"
    cron: str | None  # None: triggered by asset events only
    schedule_label: str
    description: str
    resource_code: str = ""
    resource_name: str = ""
    table: str = ""
    update_cycle: str = ""
    provider_name: str = ""
    wait: timedelta = timedelta(0)
    poke_every: timedelta = timedelta(seconds=30)
    themes: tuple[dict[str, str], ...] = field(default_factory=tuple)
    tags: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "kind": self.kind,
            "schedule": self.cron,
            "schedule_label": self.schedule_label,
            "timezone": TIMEZONE,
            "resource_code": self.resource_code,
            "resource_name": self.resource_name,
            "table": self.table,
            "update_cycle": self.update_cycle,
            "provider": self.provider_name,
            "themes": [t["resource_code"] for t in self.themes],
            "description": self.description,
        }


def ingest_dag_id(table: str) -> str:
    return DAG_PREFIX + table


def ingest_spec(capability: dict[str, Any]) -> DagSpec:
    cycle = UpdateCycle(capability["update_cycle"])
    timing = TIMINGS[cycle]
    cron = capability.get("schedule") or timing.cron
    label = timing.label if cron == timing.cron else f"自定义 {cron}"
    return DagSpec(
        dag_id=ingest_dag_id(capability["table"]),
        kind="ingest",
        cron=cron,
        schedule_label=f"{cycle}（{label}）",
        description=f"{capability['resource_name']} {capability['resource_code']} 入库",
        resource_code=capability["resource_code"],
        resource_name=capability["resource_name"],
        table=capability["table"],
        update_cycle=str(cycle),
        provider_name=capability.get("provider_name", ""),
        wait=timing.wait,
        poke_every=timing.poke_every,
        tags=("govshare", "ingest", str(cycle), capability.get("provider_name", "")),
    )


def theme_spec(themes: list[dict[str, Any]]) -> DagSpec:
    names = "、".join(t["resource_name"] for t in themes)
    return DagSpec(
        dag_id=THEME_DAG_ID,
        kind="themes",
        cron=None,
        schedule_label="来源数据入库后触发 (on new source data)",
        description=f"主题库刷新：{names}",
        themes=tuple({"resource_code": t["resource_code"], "table": t["table"]} for t in themes),
        tags=("govshare", "themes"),
    )


def dag_specs(snapshot: dict[str, Any]) -> list[DagSpec]:
    """Every DAG the capability list implies, theme DAG last."""
    capabilities = snapshot.get("capabilities", [])
    specs = [ingest_spec(c) for c in capabilities if not c.get("theme")]
    # 主题 resources are never ingested; those defined as themes are built by the theme DAG.
    themes = [c for c in capabilities if c.get("theme") and c.get("theme_code")]
    if themes:
        specs.append(theme_spec(themes))
    return specs


def push_deadline(due: datetime) -> datetime:
    """End of the Beijing calendar day a run was due on (same-day push rule)."""
    day = due.astimezone(CHINA_TZ).date() + timedelta(days=1)
    return datetime.combine(day, time(0, 0), tzinfo=CHINA_TZ)
