"""Deadlines in years the holiday package does not know are provisional until the State
Council's notice is imported; the import makes them exact and moves open deadlines.

The 2027 notice used here is a test fixture with made-up dates (the real one could not be
checked offline); expected dates are counted from the fixture itself, independently of the
code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from catalog import demands, repository, services
from catalog.context import Actor
from catalog.domain import DemandState, MountKind, ShareType
from catalog.errors import NotAuthorized, ValidationError
from catalog.gaps import gap_report
from catalog.models import HolidayNotice
from catalog.schemas import DemandIn, MountIn, ReviewIn
from catalog.store import Catalog
from catalog.views import demand_out
from catalog.workdays import WorkCalendar
from catalog.workdays_notices import (
    HolidayNoticeIn,
    calendar_for,
    import_holiday_notice,
    list_holiday_notices,
    read_notice,
)
from infra.settings import Settings
from tests import factories
from tests.catalogues import Clock
from tests.factories import STEWARD

FIXTURE = Path(__file__).parent / "cases" / "calendar" / "2027-test-fixture.toml"
MONDAY_1_FEB_2027 = datetime(2027, 2, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def _expected_due(notice: HolidayNoticeIn, start: date, days: int) -> date:
    """Count working days by hand: weekends off, the notice's holidays off, its 调休 worked."""
    off, worked = set(notice.days_off()), set(notice.workdays())
    current, remaining = start, days
    while remaining:
        current += timedelta(days=1)
        if current in worked or (current.weekday() < 5 and current not in off):
            remaining -= 1
    return current


def _stored(notice: HolidayNoticeIn) -> HolidayNotice:
    return HolidayNotice(
        year=notice.year, holidays=[p.model_dump(mode="json") for p in notice.holidays]
    )


# ---- the calendar ----------------------------------------------------------------------


def test_a_2027_deadline_is_provisional_on_the_package_alone() -> None:
    calendar = WorkCalendar()
    guess = calendar.deadline(date(2027, 2, 1), 10)
    # Weekends only: the Spring Festival week is silently counted as working days.
    assert guess.due == date(2027, 2, 15)
    assert guess.provisional
    assert guess.label() == "2027-02-15（暂定，节假日安排未发布）"
    exact = calendar.deadline(date(2026, 3, 3), 10)
    assert (exact.due, exact.provisional) == (date(2026, 3, 17), False)
    assert exact.label() == "2026-03-17"
    # Counted from late December 2026, the deadline runs into the unknown 2027.
    assert calendar.deadline(date(2026, 12, 28), 10).provisional


def test_a_notice_makes_its_whole_year_known_and_the_deadline_exact() -> None:
    notice = read_notice(FIXTURE)
    calendar = calendar_for(Settings(), [_stored(notice)])
    deadline = calendar.deadline(date(2027, 2, 1), 10)
    assert deadline.due == _expected_due(notice, date(2027, 2, 1), 10)
    assert deadline.due == date(2027, 2, 20)  # the fixture's swapped Saturday is the 10th day
    assert not deadline.provisional
    assert calendar.knows(date(2027, 8, 3)) and not calendar.knows(date(2028, 1, 3))
    assert not calendar.is_workday(date(2027, 2, 10))  # the fixture's Spring Festival
    assert calendar.is_workday(date(2027, 9, 26))  # a swapped Sunday
    assert calendar.is_workday(date(2026, 2, 14))  # earlier years still from the package


# ---- demands and the import ------------------------------------------------------------


def _conditional_demand(catalog: Catalog) -> str:
    """A conditional demand filed on Monday 1 February 2027 (the clock must be set)."""
    with catalog.unit() as ctx:
        provider = factories.department(ctx, 1)
        consumer = factories.department(ctx, 2)
        owner = Actor.department(provider.code)
        spec = factories.resource_spec(
            provider, 1, share_type=ShareType.CONDITIONAL, share_condition="依法履职"
        )
        services.create_resource(ctx, spec=spec, actor=owner)
        services.submit_resource(ctx, code=spec.code, actor=owner)
        services.review_resource(ctx, code=spec.code, review=ReviewIn(approve=True), actor=STEWARD)
        mount = services.add_mount(
            ctx,
            resource_code=spec.code,
            spec=MountIn(kind=MountKind.TABLE, target="t1"),
            actor=owner,
        )
        services.review_mount(ctx, mount_id=mount.id, review=ReviewIn(approve=True), actor=STEWARD)
        demand = demands.submit_demand(
            ctx,
            requester_code=consumer.code,
            spec=DemandIn(
                resource_code=spec.code,
                wanted_items=["身份证号"],
                purpose="办理一件事",
                legal_basis="国发〔2016〕51号",
            ),
            actor=Actor.department(consumer.code),
        )
        assert demand.state is DemandState.PENDING
        return demand.code


def test_2027_deadline_is_provisional_until_the_notice_is_imported_then_exact(
    catalog: Catalog, clock: Clock
) -> None:
    clock.set(MONDAY_1_FEB_2027)
    code = _conditional_demand(catalog)
    notice = read_notice(FIXTURE)
    expected = _expected_due(notice, date(2027, 2, 1), 10)

    clock.set(datetime(2027, 2, 17, 2, 0, tzinfo=UTC))  # past the provisional due date
    with catalog.unit() as ctx:
        out = demand_out(ctx, repository.demand(ctx.session, code))
        assert out.due_date == date(2027, 2, 15)
        assert out.due_provisional and out.overdue
        [late] = [g for g in gap_report(ctx).overdue_reviews if g.ref == code]
        assert late.due_provisional and late.due == date(2027, 2, 15)

    with catalog.unit() as ctx:
        report = import_holiday_notice(ctx, notice=notice, actor=STEWARD)
    assert not report.replaced and not report.dry_run
    [moved] = report.recomputed
    assert (moved.demand_code, moved.before, moved.after) == (code, date(2027, 2, 15), expected)
    assert not moved.provisional

    with catalog.unit() as ctx:
        demand = repository.demand(ctx.session, code)
        out = demand_out(ctx, demand)
        assert out.due_date == expected == date(2027, 2, 20)
        assert not out.due_provisional and not out.overdue
        assert all(g.ref != code for g in gap_report(ctx).overdue_reviews)
        [entry] = [
            h
            for h in repository.history(ctx.session, entity="demand", entity_id=demand.id)
            if h.action == "重算办结期限"
        ]
        assert entry.before == {"due_date": "2027-02-15"}
        assert entry.after is not None and entry.after["due_date"] == expected.isoformat()
        assert entry.actor == STEWARD.name
        [stored] = list_holiday_notices(ctx)
        assert (stored.year, stored.days_off, stored.workdays) == (2027, 33, 4)


def test_a_demand_filed_after_the_import_is_exact_at_once(catalog: Catalog, clock: Clock) -> None:
    with catalog.unit() as ctx:
        import_holiday_notice(ctx, notice=read_notice(FIXTURE), actor=STEWARD)
    clock.set(MONDAY_1_FEB_2027)
    code = _conditional_demand(catalog)
    with catalog.unit() as ctx:
        out = demand_out(ctx, repository.demand(ctx.session, code))
    assert out.due_date == date(2027, 2, 20) and not out.due_provisional


def test_dry_run_reports_the_moves_and_writes_nothing(catalog: Catalog, clock: Clock) -> None:
    clock.set(MONDAY_1_FEB_2027)
    code = _conditional_demand(catalog)
    with catalog.unit() as ctx:
        report = import_holiday_notice(
            ctx, notice=read_notice(FIXTURE), actor=STEWARD, dry_run=True
        )
    assert [m.demand_code for m in report.recomputed] == [code] and report.dry_run
    with catalog.unit() as ctx:
        assert repository.demand(ctx.session, code).due_date == date(2027, 2, 15)
        assert list_holiday_notices(ctx) == []


def test_importing_a_year_again_replaces_it_and_moves_deadlines_back(
    catalog: Catalog, clock: Clock
) -> None:
    clock.set(MONDAY_1_FEB_2027)
    code = _conditional_demand(catalog)
    notice = read_notice(FIXTURE)
    with catalog.unit() as ctx:
        import_holiday_notice(ctx, notice=notice, actor=STEWARD)
    # A correction: the Spring Festival moved out of February altogether.
    corrected = notice.model_copy(
        update={"holidays": [p for p in notice.holidays if p.name != "春节"]}
    )
    with catalog.unit() as ctx:
        report = import_holiday_notice(ctx, notice=corrected, actor=STEWARD)
    assert report.replaced
    assert [(m.before, m.after) for m in report.recomputed] == [
        (date(2027, 2, 20), date(2027, 2, 15))
    ]
    with catalog.unit() as ctx:
        out = demand_out(ctx, repository.demand(ctx.session, code))
        assert out.due_date == date(2027, 2, 15) and not out.due_provisional  # known, not guessed
        assert len(list_holiday_notices(ctx)) == 1


def test_only_stewards_import_a_notice(catalog: Catalog) -> None:
    with catalog.unit() as ctx:
        dept = factories.department(ctx, 1)
    with catalog.unit() as ctx, pytest.raises(NotAuthorized, match="节假日安排"):
        import_holiday_notice(ctx, notice=read_notice(FIXTURE), actor=Actor.department(dept.code))


# ---- the file --------------------------------------------------------------------------

GOOD = 'year = 2027\n[[holidays]]\nname = "春节"\nstart = 2027-02-06\nend = 2027-02-14\n'


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("n.toml", GOOD.replace("end = 2027-02-14", "end = 2027-02-01"), "结束日期早于开始日期"),
        ("n.toml", GOOD + "workdays = [2027-02-17]\n", "不是周六或周日"),
        ("n.toml", GOOD + "workdays = [2027-02-13]\n", "既是放假日又是调休上班日"),
        ("n.toml", GOOD.replace("year = 2027", "year = 2028"), "不在2028年"),
        ("n.toml", GOOD + "days = 3\n", "holidays[0].days"),
        ("n.toml", "year = 2027\nholidays = [", "不是有效的 UTF-8 TOML"),
        ("n.json", '{"year": "2027", "holidays": []}', "year"),
        ("n.yaml", "year: 2027", ".toml 或 .json"),
    ],
    ids=["end-before-start", "weekday-swap", "off-and-worked", "wrong-year", "unknown-key",
         "broken-toml", "json-types", "unsupported-format"],
)  # fmt: skip
def test_a_bad_notice_file_is_refused_with_the_problem_named(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        read_notice(path)
    shown = caught.value.message + " " + " ".join(caught.value.details or [])
    assert message in shown


def test_the_same_notice_reads_from_json(tmp_path: Path) -> None:
    notice = read_notice(FIXTURE)
    path = tmp_path / "2027.json"
    path.write_text(notice.model_dump_json(), encoding="utf-8")
    assert read_notice(path) == notice
