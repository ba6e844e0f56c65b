"""The gap report on the demo catalogue shows each kind of gap it was built to show."""

from __future__ import annotations

from catalog import repository
from catalog.domain import DemandState
from catalog.gaps import gap_report
from demo.catalog import DEPT


def test_demo_catalogue_has_demands_in_every_state(demo_catalog) -> None:
    with demo_catalog.unit() as ctx:
        states = {d.state for d in repository.demands(ctx.session)}
    # 已提交 is transient: routing moves every demand on within the same transaction.
    assert states == set(DemandState) - {DemandState.SUBMITTED}


def test_gap_report_lists_every_kind_of_gap(demo_catalog) -> None:
    with demo_catalog.unit() as ctx:
        report = gap_report(ctx)
    assert {g.duty_code for g in report.uncatalogued_duties} == {
        "SCJG-04", "RS-03", "WJ-03", "ZJ-03",
    }  # fmt: skip
    vaccination = next(g for g in report.uncatalogued_duties if g.duty_code == "WJ-03")
    assert vaccination.missing_items == ["接种记录编号", "疫苗名称", "接种日期"]
    coverage = {c.department_code: c.coverage for c in report.coverage}
    assert coverage[DEPT["sw"]] == 1.0
    assert coverage[DEPT["scjg"]] == 0.75
    unmounted = {g.resource_code: g.mount_states for g in report.unmounted_resources}
    assert unmounted["000005002/000001"] == ["挂接待审核"]
    assert unmounted["000006001/000001"] == ["已退回"]
    assert "000001001/000001" not in unmounted
    assert [g.wanted_items for g in report.unowned_demands] == [["不动产权证号", "不动产坐落"]]
    [no_capability] = report.no_capability_demands
    assert no_capability.provider_code == DEPT["wj"]
    [overdue] = report.overdue_reviews
    assert overdue.kind == "共享需求" and overdue.working_days_late > 0
    conflicts = {c.item_name: c.resources for c in report.source_conflicts}
    assert conflicts == {"死亡日期": ["000004001/000002", "000006001/000002"]}
    assert report.total == sum(
        len(x)
        for x in (
            report.uncatalogued_duties,
            report.unmounted_resources,
            report.unowned_demands,
            report.no_capability_demands,
            report.overdue_reviews,
            report.source_conflicts,
        )
    )
