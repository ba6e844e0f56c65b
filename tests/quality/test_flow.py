"""The gate end to end on real Spark: 0.5% bad publishes, 5% bad is held; Data Docs written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.store import Catalog
from checks import gate as verdict
from quality import gate, report, run
from quality.evaluate import evaluate, read_source
from tests.factories import STEWARD
from tests.pipelines.conftest import (
    REG_TABLE,
    REGISTRATION,
    company_code,
    registration_row,
    write_csv,
)
from tests.quality.conftest import TODAY, registration_rules

pytestmark = pytest.mark.slow


def _batch(landing: Path, name: str, bad: int, rows: int = 1000) -> Path:
    data = [registration_row(n) for n in range(1, rows + 1)]
    for n in range(bad):
        # Alternate two kinds of defect so counts per rule are checked, not just the total.
        if n % 2:
            code = company_code(n * 7 + 1)
            wrong = code[:-1] + ("1" if code.endswith("0") else "0")
            data[n * 7] = registration_row(n * 7 + 1, 统一社会信用代码=wrong)
        else:
            data[n * 7] = registration_row(n * 7 + 1, 成立日期="2099-01-01")
    return write_csv(landing / REG_TABLE / name, data)


@pytest.mark.parametrize(
    ("bad", "published"), [(5, True), (50, False)], ids=["half-percent", "five-percent"]
)
def test_batch_passes_or_is_held_and_counts_add_up(
    lake_settings, landing, spark, bad, published
) -> None:  # type: ignore[no-untyped-def]
    ruleset = registration_rules(lake_settings)
    path = _batch(landing, f"reg_{bad}.csv", bad)
    evaluation = evaluate(read_source(spark, path), ruleset, spark=spark, settings=lake_settings)
    assert (evaluation.rows_read, evaluation.rows_failed) == (1000, bad)
    assert evaluation.rows_passed + evaluation.rows_failed == evaluation.rows_read
    assert evaluation.counts["not_future:成立日期"] == (bad + 1) // 2
    assert evaluation.counts["uscc:统一社会信用代码"] == bad // 2
    decision = verdict.decide(
        rows_read=evaluation.rows_read,
        rows_failed=evaluation.rows_failed,
        threshold=ruleset.threshold,
        reasons=verdict.reasons(ruleset, evaluation.counts, rows_read=evaluation.rows_read),
    )
    assert decision.publish is published
    assert decision.pass_rate == pytest.approx(1 - bad / 1000)
    catalog = Catalog(lake_settings)
    with catalog.unit() as ctx:
        run.conclude(
            ctx,
            ruleset=ruleset,
            batch_id=f"batch-{bad}",
            decision=decision,
            counts=evaluation.counts,
            sample=evaluation.sample,
        )
    with catalog.unit() as ctx:
        shown = report.report(ctx, resource_code=REGISTRATION, actor=STEWARD, today=TODAY)
        shown = shown["results"][0]
        notices = report.notifications(ctx, actor=STEWARD)
    catalog.dispose()
    assert shown["decision"] == (gate.PUBLISHED if published else gate.HELD)
    assert shown["rows_passed"] + shown["rows_failed"] == shown["rows_read"] == 1000
    assert sum(c["failed"] for c in shown["counts"]) == bad
    assert len(notices) == (0 if published else 1)
    docs = Path(shown["data_docs"])
    assert docs.is_file() and docs.is_relative_to(lake_settings.home)
    page = docs.read_text(encoding="utf-8")
    assert "成立日期：日期晚于当天 (date in the future)" in page
    assert f"{(bad + 1) // 2} unexpected values found" in page
    assert (docs.parent.parent / "index.html").is_file()


def test_quality_run_and_report_from_the_command_line(lake_settings, landing) -> None:  # type: ignore[no-untyped-def]
    path = _batch(landing, "reg_cli.csv", 20, rows=200)
    env = {
        **os.environ,
        "GOVSHARE_HOME": str(lake_settings.home),
        "GOVSHARE_DATABASE_URL": lake_settings.catalog_url,
        "GOVSHARE_SPARK_MASTER": "local[2]",
        "GOVSHARE_SPARK_SHUFFLE_PARTITIONS": "2",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "govshare", "quality", *args],
            capture_output=True, text=True, env=env, timeout=300, check=False,
        )  # fmt: skip

    checked = cli("run", REGISTRATION, "--file", str(path), "--json")
    assert checked.returncode == 0, checked.stderr
    outcome = json.loads(checked.stdout)
    assert (outcome["rows_read"], outcome["rows_failed"]) == (200, 20)
    assert outcome["would_publish"] is False and Path(outcome["data_docs"]).is_file()
    shown = cli("report", REGISTRATION, "--json")
    assert shown.returncode == 0, shown.stderr
    results = json.loads(shown.stdout)["results"]
    assert results[0]["decision"] == "checked" and results[0]["rows_failed"] == 20
    assert cli("release", results[0]["batch_id"]).returncode == 1  # a check holds nothing
    assert cli("chart").returncode == 0


def test_a_small_files_check_runs_in_process_and_agrees_with_sparks(lake_settings, landing):  # type: ignore[no-untyped-def]
    """Below ``ingest_local_max_bytes`` a check reads the file as the ingest job would, in this
    process; above it Spark reads it. Same counts, same located sample, either way."""
    rows = [registration_row(n) for n in range(1, 301)]
    rows[10] = registration_row(11, 成立日期="2099-01-01")
    rows[20] = rows[3]  # a repeated key: found once the whole batch is seen
    path = write_csv(landing / REG_TABLE / "reg_paths.csv", rows)
    outcomes = {}
    for engine, limit in (("local", lake_settings.ingest_local_max_bytes), ("spark", 0)):
        settings = lake_settings.model_copy(update={"ingest_local_max_bytes": limit})
        outcome = run.check(
            settings, resource_code=REGISTRATION, actor=STEWARD, path=path, today=TODAY
        )
        outcomes[engine] = {k: outcome[k] for k in outcome if k not in ("seconds", "data_docs")}
    assert outcomes["local"]["rows_read"] == 300 and outcomes["local"]["rows_failed"] == 2
    assert outcomes["local"]["counts"] == outcomes["spark"]["counts"]
    assert outcomes["local"] == outcomes["spark"]
