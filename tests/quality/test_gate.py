"""The gate's decision, its record in the catalogue, release and reject (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.context import Actor
from catalog.models import QualityNotification
from catalog.store import Catalog
from checks import gate as verdict
from checks.errors import BadRule
from demo.catalog import DEPT
from quality import gate, report, service
from quality.errors import GateStateError, NotAuthorized
from tests.factories import STEWARD
from tests.pipelines.conftest import REGISTRATION
from tests.quality.conftest import TODAY

PROVIDER = Actor.department(DEPT["scjg"])
OTHER = Actor.department(DEPT["sw"])


@pytest.mark.parametrize(
    ("bad_rows", "publish", "rate"),
    [(0, True, 1.0), (5, True, 0.995), (10, True, 0.99), (11, False, 0.989), (50, False, 0.95)],
    ids=["clean", "half-percent", "exactly-threshold", "just-below", "five-percent"],
)
def test_gate_publishes_at_or_above_the_threshold(
    bad_rows: int, publish: bool, rate: float
) -> None:
    decision = verdict.decide(rows_read=1000, rows_failed=bad_rows, threshold=0.99)
    assert decision.publish is publish
    assert decision.pass_rate == pytest.approx(rate)
    assert decision.rows_passed + decision.rows_failed == 1000


def _held(ctx, batch_id: str = "b" * 32) -> verdict.GateDecision:  # type: ignore[no-untyped-def]
    ruleset = service.ruleset_for(ctx, REGISTRATION, today=TODAY)
    counts = {r.id: 0 for r in ruleset.rules} | {"uscc:统一社会信用代码": 50}
    decision = verdict.decide(
        rows_read=1000,
        rows_failed=50,
        threshold=ruleset.threshold,
        reasons=verdict.reasons(ruleset, counts, rows_read=1000),
    )
    gate.record(
        ctx, ruleset=ruleset, batch_id=batch_id, decision=decision, counts=counts, sample=[]
    )
    return decision


def test_held_batch_notifies_the_provider_with_reasons(demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        decision = _held(ctx)
        assert not decision.publish
    with demo_catalog.unit() as ctx:
        notices = report.notifications(ctx, actor=PROVIDER, department_code=DEPT["scjg"])
        assert len(notices) == 1 and notices[0]["kind"] == gate.HELD
        assert "95.00%" in notices[0]["message"] and "99.00%" in notices[0]["message"]
        assert notices[0]["reasons"] == [
            "统一社会信用代码：统一社会信用代码格式或校验位错误：50 行 (5.00%)"
        ]
        with pytest.raises(NotAuthorized):
            report.notifications(ctx, actor=OTHER, department_code=DEPT["scjg"])
        shown = report.report(ctx, resource_code=REGISTRATION, actor=PROVIDER, today=TODAY)
        latest = shown["results"][0]
        assert latest["decision"] == gate.HELD and latest["rows_failed"] == 50
        assert latest["counts"][0]["failed"] == 50
        assert [h["action"] for h in latest["history"]] == [gate.HELD]


def test_steward_releases_a_held_batch_once(demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        _held(ctx)
    with demo_catalog.unit() as ctx, pytest.raises(NotAuthorized):
        gate.release(ctx, batch_id="b" * 32, actor=PROVIDER)
    with demo_catalog.unit() as ctx:
        order = gate.release(ctx, batch_id="b" * 32, actor=STEWARD, reason="已核实")
        assert (order.action, order.rows_to_publish, order.rows_quarantined) == (
            gate.RELEASED,
            950,
            50,
        )
        assert order.table == "scjg_enterprise_registration"
    with demo_catalog.unit() as ctx, pytest.raises(GateStateError):
        gate.reject(ctx, batch_id="b" * 32, actor=STEWARD, reason="晚了")
    with demo_catalog.unit() as ctx:
        shown = report.report(ctx, resource_code=REGISTRATION, actor=STEWARD, today=TODAY)
        assert [h["action"] for h in shown["results"][0]["history"]] == [
            gate.HELD,
            gate.RELEASED,
        ]


def test_rejected_batch_publishes_nothing_and_tells_the_provider(demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        _held(ctx)
    with demo_catalog.unit() as ctx:
        order = gate.reject(ctx, batch_id="b" * 32, actor=STEWARD, reason="校验位错误过多")
        assert (order.rows_to_publish, order.rows_quarantined) == (0, 1000)
    with demo_catalog.unit() as ctx:
        kinds = [n.kind for n in ctx.session.query(QualityNotification).all()]
        assert kinds == [gate.HELD, gate.REJECTED]
        with pytest.raises(GateStateError):
            gate.record(
                ctx,
                ruleset=service.ruleset_for(ctx, REGISTRATION, today=TODAY),
                batch_id="b" * 32,
                decision=verdict.decide(rows_read=1, rows_failed=0, threshold=0.99),
                counts={},
                sample=[],
            )


def test_threshold_is_configurable_per_resource(demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        with pytest.raises(NotAuthorized):
            service.set_profile(ctx, resource_code=REGISTRATION, actor=PROVIDER, threshold=0.9)
        service.set_profile(ctx, resource_code=REGISTRATION, actor=STEWARD, threshold=0.9)
    with demo_catalog.unit() as ctx:
        ruleset = service.ruleset_for(ctx, REGISTRATION, today=TODAY)
        assert ruleset.threshold == 0.9
        assert verdict.decide(rows_read=1000, rows_failed=50, threshold=ruleset.threshold).publish


def test_deployment_threshold_applies_where_a_resource_sets_none(demo_catalog: Catalog) -> None:
    strict = demo_catalog.settings.model_copy(update={"quality_threshold": 0.999})
    deployment = Catalog(strict)
    with deployment.unit() as ctx:
        assert service.ruleset_for(ctx, REGISTRATION, today=TODAY).threshold == 0.999
        service.set_profile(ctx, resource_code=REGISTRATION, actor=STEWARD, threshold=0.95)
    with deployment.unit() as ctx:
        assert service.ruleset_for(ctx, REGISTRATION, today=TODAY).threshold == 0.95
    deployment.dispose()


def test_steward_rules_are_stored_listed_and_retired(demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        with pytest.raises(NotAuthorized):
            service.add_rule(
                ctx, resource_code=REGISTRATION, item="企业状态", kind="not_null",
                params={}, actor=PROVIDER,
            )  # fmt: skip
        with pytest.raises(BadRule):
            service.add_rule(
                ctx, resource_code=REGISTRATION, item="不存在", kind="not_null",
                params={}, actor=STEWARD,
            )  # fmt: skip
        rule = service.add_rule(
            ctx, resource_code=REGISTRATION, item="企业状态", kind="in_set",
            params={"values": ["存续", "注销", "存续"]}, actor=STEWARD,
        )  # fmt: skip
        rule_id = rule.id
    with demo_catalog.unit() as ctx:
        listed = service.rules_of(ctx, resource_code=REGISTRATION, actor=PROVIDER, today=TODAY)
        mine = [r for r in listed.rules if r.origin == "steward"]
        assert [(r.kind, r.kwargs["value_set"]) for r in mine] == [("in_set", ["存续", "注销"])]
        with pytest.raises(NotAuthorized):
            service.rules_of(ctx, resource_code=REGISTRATION, actor=OTHER, today=TODAY)
        service.remove_rule(ctx, rule_id=rule_id, actor=STEWARD)
    with demo_catalog.unit() as ctx:
        listed = service.rules_of(ctx, resource_code=REGISTRATION, actor=STEWARD, today=TODAY)
        assert [r for r in listed.rules if r.origin == "steward"] == []


def test_code_lists_and_formats_live_in_the_catalogue(demo_catalog: Catalog) -> None:
    with demo_catalog.unit() as ctx:
        service.set_profile(
            ctx, resource_code=REGISTRATION, actor=STEWARD, item="行业代码",
            codes=["C13", "C14"], pattern="^[A-Z][0-9]{2,3}$",
        )  # fmt: skip
    with demo_catalog.unit() as ctx:
        ruleset = service.ruleset_for(ctx, REGISTRATION, today=TODAY)
        kinds = {r.kind: r.kwargs for r in ruleset.item_rules("行业代码")}
        assert kinds["code_list"] == {"value_set": ["C13", "C14"]}
        assert kinds["format"] == {"regex": "^[A-Z][0-9]{2,3}$"}


def test_pass_rates_over_time_by_resource_department_and_overall(
    demo_catalog: Catalog, clock
) -> None:  # type: ignore[no-untyped-def]
    with demo_catalog.unit() as ctx:
        ruleset = service.ruleset_for(ctx, REGISTRATION, today=TODAY)
        for n, failed in enumerate((0, 5, 50)):
            decision = verdict.decide(rows_read=1000, rows_failed=failed, threshold=0.99)
            gate.record(
                ctx, ruleset=ruleset, batch_id=f"batch{n}", decision=decision, counts={}, sample=[]
            )
            clock.advance(days=1)
    with demo_catalog.unit() as ctx:
        data = report.series(ctx, actor=STEWARD)
        overall = data["overall"]["全部 (overall)"]
        assert [p["pass_rate"] for p in overall] == [1.0, 0.995, 0.95]
        assert list(data["department"]) == ["杭州市市场监督管理局"]
        html_page = report.chart_html(data, generated_at=clock())
        assert "<svg" in html_page and "企业登记信息" in html_page
        with pytest.raises(NotAuthorized):
            report.series(ctx, actor=PROVIDER)


def test_a_rate_just_below_the_threshold_never_shows_as_equal_to_it() -> None:
    decision = verdict.decide(rows_read=10_000, rows_failed=101, threshold=0.99)
    assert not decision.publish
    assert "合格率 98.99% 低于阈值 99.00%" in decision.message


def test_a_notice_says_where_its_batch_stands_now(demo_catalog: Catalog) -> None:
    """The held notice keeps its words (等待审核员放行); beside them, the batch's state today."""
    with demo_catalog.unit() as ctx:
        _held(ctx)
    with demo_catalog.unit() as ctx:
        (notice,) = report.notifications(ctx, actor=STEWARD)
        assert notice["decision"] == gate.HELD and "等待审核员放行" in notice["status"]
        gate.release(ctx, batch_id="b" * 32, actor=STEWARD, reason="已核实")
    with demo_catalog.unit() as ctx:
        (notice,) = report.notifications(ctx, actor=STEWARD)
    assert notice["decision"] == gate.RELEASED
    assert notice["status"] == "已放行（test-steward，2026-03-03 10:00:00 北京时间）"
    assert "等待" not in notice["status"]


def test_pass_rates_are_counted_by_the_day_in_beijing(demo_catalog: Catalog, clock) -> None:  # type: ignore[no-untyped-def]
    # 17:30 UTC on 3 March is 01:30 on 4 March in Beijing: the batch belongs to the 4th.
    clock.set(datetime(2026, 3, 3, 17, 30, tzinfo=UTC))
    with demo_catalog.unit() as ctx:
        decision = verdict.decide(rows_read=100, rows_failed=0, threshold=0.99)
        ruleset = service.ruleset_for(ctx, REGISTRATION, today=TODAY)
        gate.record(ctx, ruleset=ruleset, batch_id="late", decision=decision, counts={}, sample=[])
    with demo_catalog.unit() as ctx:
        data = report.series(ctx, actor=STEWARD)
    assert [p["day"] for p in data["overall"]["全部 (overall)"]] == ["2026-03-04"]
    page = report.chart_html(data, generated_at=clock())
    assert "2026-03-04 01:30:00（北京时间" in page


def test_the_data_docs_index_names_resource_time_rate_and_decision(
    demo_catalog: Catalog, settings
) -> None:  # type: ignore[no-untyped-def]
    from quality import docs_index
    from quality.docs_assets import docs_root

    root = docs_root(settings)
    page = root / "govshare_000001001_000001" / f"{'b' * 32}.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html></html>", encoding="utf-8")
    with demo_catalog.unit() as ctx:
        ruleset = service.ruleset_for(ctx, REGISTRATION, today=TODAY)
        decision = verdict.decide(rows_read=1000, rows_failed=50, threshold=ruleset.threshold)
        gate.record(
            ctx, ruleset=ruleset, batch_id="b" * 32, decision=decision, counts={}, sample=[],
            docs_path=str(page),
        )  # fmt: skip
        docs_index.refresh(ctx)
    index = (root / "index.html").read_text(encoding="utf-8")
    assert "000001001/000001</code> 企业登记信息" in index and "杭州市市场监督管理局" in index
    assert "2026-03-03 10:00:00" in index  # 02:00 UTC, read in Beijing
    assert "95.00%" in index and "暂缓入库" in index
    assert f'href="govshare_000001001_000001/{"b" * 32}.html"' in index
    assert '"Noto Sans CJK SC"' in index  # Chinese renders where no CJK font is the default
    with demo_catalog.unit() as ctx:
        gate.release(ctx, batch_id="b" * 32, actor=STEWARD, reason="已核实")
    index = (root / "index.html").read_text(encoding="utf-8")
    assert "已放行（test-steward，2026-03-03 10:00:00）" in index
