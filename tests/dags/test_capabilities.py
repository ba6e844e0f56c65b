"""The capability snapshot and the DAG specs it implies; no Airflow needed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalog import batches, repository
from catalog.domain import UpdateCycle
from catalog.snapshot import build_snapshot, read_snapshot, snapshot_path, write_snapshot
from catalog.store import Catalog
from dags import tasks
from dags.cycles import TIMINGS, dag_specs, push_deadline
from dags.errors import GateHeld, PushOverdue
from dags.tasks import RunRef
from infra.settings import Settings
from tests.pipelines.conftest import REG_TABLE, REGISTRATION, registration_row, write_csv

# Published resources with a usable 库表 mount in the demo catalogue (theme files last).
DEMO_INGEST_TABLES = {
    "scjg_enterprise_registration", "scjg_penalties", "scjg_abnormal", "sw_tax_credit",
    "sw_tax_paid", "rs_enterprise_insurance", "rs_person_contributions", "ga_population",
    "ga_deregistration", "ga_driving_licence", "ga_fugitives", "mz_marriage", "mz_dibao",
    "wj_death_certificates", "wj_medical_licences", "zj_construction_licences",
    "zj_housing_contracts", "sjj_e_licences",
}  # fmt: skip


def test_every_update_cycle_has_a_timing() -> None:
    assert set(TIMINGS) == set(UpdateCycle)


def test_snapshot_lists_only_mounted_capabilities(demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        snapshot = build_snapshot(ctx.session)
    tables = {c["table"] for c in snapshot["capabilities"] if not c["theme"]}
    assert tables == DEMO_INGEST_TABLES
    themes = {c["resource_code"] for c in snapshot["capabilities"] if c["theme"]}
    assert themes == {"000008002/000001", "000008002/000002"}
    # 挂接待审核, 已退回 mounts and unpublished resources are not capabilities.
    assert not {"mz_social_orgs", "wj_birth_certificates"} & tables


def test_dag_specs_follow_the_update_cycle(demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        specs = {s.dag_id: s for s in dag_specs(build_snapshot(ctx.session))}
    assert len(specs) == len(DEMO_INGEST_TABLES) + 1
    assert specs["govshare_ingest_scjg_enterprise_registration"].cron == "0 20 * * *"
    assert specs["govshare_ingest_ga_fugitives"].cron == "*/5 * * * *"  # 实时
    assert specs["govshare_ingest_wj_medical_licences"].cron == "0 20 * * 5"  # 每周
    assert specs["govshare_ingest_sw_tax_paid"].cron == "0 20 1 * *"  # 每月
    assert specs["govshare_ingest_sw_tax_credit"].cron == "0 20 1 1 *"  # 每年
    themes = specs["govshare_themes"]
    assert themes.cron is None and len(themes.themes) == 2


def test_mount_config_overrides_the_schedule(demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        mount = repository.resource(ctx.session, REGISTRATION).mounts[0]
        mount.config = {**(mount.config or {}), "schedule": "30 18 * * 1-5"}
    with demo_catalog.unit() as ctx:
        spec = next(
            s for s in dag_specs(build_snapshot(ctx.session)) if s.resource_code == REGISTRATION
        )
    assert spec.cron == "30 18 * * 1-5" and "自定义" in spec.schedule_label


def test_snapshot_file_is_rewritten_only_when_it_changes(demo_catalog: Catalog) -> None:
    settings = demo_catalog.settings
    path = snapshot_path(settings)
    path.unlink(missing_ok=True)
    assert write_snapshot(settings, catalog=demo_catalog) is True
    assert write_snapshot(settings, catalog=demo_catalog) is False
    assert len(read_snapshot(path)["capabilities"]) == 20


def test_catalogue_changes_refresh_the_snapshot_by_themselves(demo_catalog: Catalog) -> None:
    """Seeding wrote the file; a changed mount rewrites it without anyone calling sync."""
    path = snapshot_path(demo_catalog.settings)
    assert len(read_snapshot(path)["capabilities"]) == 20
    with demo_catalog.unit() as ctx:
        mount = repository.resource(ctx.session, REGISTRATION).mounts[0]
        mount.config = {**(mount.config or {}), "schedule": "30 18 * * 1-5"}
    written = {c["resource_code"]: c for c in read_snapshot(path)["capabilities"]}
    assert "30 18 * * 1-5" in str(written[REGISTRATION])


def test_missing_snapshot_means_no_dags(tmp_path: Path) -> None:
    assert dag_specs(read_snapshot(tmp_path / "absent.json")) == []


@pytest.mark.parametrize(
    ("due", "deadline"),
    [
        (datetime(2026, 3, 3, 12, 0, tzinfo=UTC), "2026-03-04T00:00:00+08:00"),  # 20:00 Beijing
        (datetime(2026, 3, 3, 16, 30, tzinfo=UTC), "2026-03-05T00:00:00+08:00"),  # 00:30 next day
    ],
    ids=["evening-run", "after-beijing-midnight"],
)
def test_push_deadline_is_the_end_of_the_beijing_day(due: datetime, deadline: str) -> None:
    assert push_deadline(due).isoformat() == deadline


# ---- task bodies against the real catalogue (no Airflow, no Spark) --------------------------


@pytest.fixture
def reg_settings(tmp_path: Path) -> Settings:
    settings = Settings(
        home=tmp_path / "home",
        database_url=f"sqlite:///{tmp_path / 'catalog.db'}",
        landing_dir=tmp_path / "landing",
    )
    catalog = Catalog(settings)
    catalog.migrate()
    from demo.catalog import seed_demo

    with catalog.unit() as ctx:
        seed_demo(ctx)
    catalog.dispose()
    return settings


def _settle(settings: Settings, path: Path, *, status: str, message: str = "") -> str:
    """Record a finished batch for ``path`` straight through catalog.batches."""
    from pipelines.sources import file_digest

    sha, size = file_digest(path)
    batch_id = f"test-{sha[:16]}"
    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        resource = repository.resource(ctx.session, REGISTRATION)
        mount = batches.ensure_table_mount(ctx, resource)
        batches.start_batch(
            ctx,
            batch_id=batch_id,
            resource=resource,
            mount=mount,
            source_file=str(path),
            file_sha256=sha,
            file_bytes=size,
        )
        batches.finish_batch(
            ctx,
            batch_id=batch_id,
            status=status,
            rows_read=3,
            rows_accepted=1,
            rows_quarantined=2,
            table_version=None,
            message=message,
        )
    catalog.dispose()
    return batch_id


def test_new_files_skips_files_already_settled(reg_settings: Settings) -> None:
    folder = reg_settings.landing_dir / REG_TABLE
    done = write_csv(folder / "a.csv", [registration_row(1)])
    fresh = write_csv(folder / "b.csv", [registration_row(2)])
    _settle(reg_settings, done, status=batches.PUBLISHED)

    found = tasks.new_files(reg_settings, resource_code=REGISTRATION, table=REG_TABLE)

    assert found == [str(fresh)]


def test_a_held_batch_fails_the_gate_with_its_reason(reg_settings: Settings) -> None:
    # TODO(quality gate): once ingest_one holds batches itself, test_dag_runs covers this
    # through a real file; until then the HELD record is written the way the gate will.
    path = write_csv(reg_settings.landing_dir / REG_TABLE / "low.csv", [registration_row(1)])
    reason = "质检入库率 33.3% 低于阈值 99% (pass rate below threshold)"
    batch_id = _settle(reg_settings, path, status=batches.HELD, message=reason)
    summary = {"batch_id": batch_id, "source_file": str(path), "rows_read": 3}

    with pytest.raises(GateHeld) as raised:
        tasks.check_gate(reg_settings, summaries=[summary])

    assert reason in raised.value.message and not raised.value.transient
    # A held file is settled: the next run does not pick it up again.
    assert tasks.new_files(reg_settings, resource_code=REGISTRATION, table=REG_TABLE) == []


def test_an_overdue_run_is_recorded_on_the_mount(reg_settings: Settings) -> None:
    run = RunRef(
        dag_id="govshare_ingest_scjg_enterprise_registration",
        run_id="scheduled__2026-03-03",
        due=datetime(2026, 3, 3, 12, 0, tzinfo=UTC),  # 20:00 Beijing
    )
    on_time = datetime(2026, 3, 3, 15, 59, tzinfo=UTC)
    assert (
        tasks.check_deadline(
            reg_settings, resource_codes=[REGISTRATION], run=run, finished_at=on_time
        )["overdue"]
        is False
    )

    with pytest.raises(PushOverdue) as raised:
        tasks.check_deadline(
            reg_settings,
            resource_codes=[REGISTRATION],
            run=run,
            finished_at=datetime(2026, 3, 3, 16, 5, tzinfo=UTC),  # 00:05 next day in Beijing
        )

    assert "2026-03-04 00:00" in raised.value.message
    history = tasks.run_history(reg_settings, resource_code=REGISTRATION)
    assert [h["action"] for h in history] == [tasks.RUN_OVERDUE]
    assert history[0]["run_id"] == run.run_id and history[0]["overdue"] is True


def test_a_run_started_after_its_deadline_is_not_blamed_on_the_department(
    reg_settings: Settings,
) -> None:
    """Unpausing a DAG (``govshare airflow up``) runs its latest missed slot at once: the
    file it finds was not late, nobody was listening for it."""
    due = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # 20:00 Beijing; deadline 00:00 next day
    caught_up = RunRef(
        dag_id="govshare_ingest_scjg_enterprise_registration",
        run_id="scheduled__2026-03-03",
        due=due,
        started=datetime(2026, 3, 4, 1, 0, tzinfo=UTC),  # 09:00 next day in Beijing
    )
    outcome = tasks.check_deadline(
        reg_settings,
        resource_codes=[REGISTRATION],
        run=caught_up,
        finished_at=datetime(2026, 3, 4, 1, 5, tzinfo=UTC),
    )
    assert outcome["overdue"] is False and outcome["started_late"] is True
    assert tasks.run_history(reg_settings, resource_code=REGISTRATION) == []

    on_time_start = RunRef(caught_up.dag_id, caught_up.run_id, due, started=due)
    with pytest.raises(PushOverdue):  # started in time, finished late: the push was late
        tasks.check_deadline(
            reg_settings,
            resource_codes=[REGISTRATION],
            run=on_time_start,
            finished_at=datetime(2026, 3, 3, 16, 5, tzinfo=UTC),
        )
