"""The API marks a deadline provisional while no holiday notice covers it, and exact after."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from catalog.store import Catalog
from catalog.workdays_notices import import_holiday_notice, read_notice
from tests.catalogues import Clock
from tests.exchange_api.api_helpers import Api
from tests.factories import STEWARD

# Made-up 2027 dates, clearly labelled in the file: the real notice is not known offline.
FIXTURE = Path(__file__).parent.parent / "catalog" / "cases" / "calendar" / "2027-test-fixture.toml"


def test_demand_due_in_2027_is_provisional_over_http_until_the_notice_is_imported(
    demo_api: Api, demo_catalog: Catalog, clock: Clock
) -> None:
    clock.set(datetime(2027, 2, 1, 2, 0, tzinfo=UTC))  # Monday 1 February 2027, Beijing morning
    body = {
        "resource_code": "000002001/000001",  # 有条件共享: the provider has 10 working days
        "wanted_items": ["统一社会信用代码", "纳税信用等级"],
        "purpose": "高效办成一件事：企业开办",
        "legal_basis": "《政务信息资源共享管理暂行办法》（国发〔2016〕51号）",
    }
    created = demo_api.post("ga", "/demands", body)
    assert created.status_code == 201, created.text
    demand = created.json()
    assert (demand["due_date"], demand["due_provisional"]) == ("2027-02-15", True)

    schema = demo_api.client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "due_provisional" in schema["DemandOut"]["properties"]
    assert "due_provisional" in schema["OverdueReview"]["properties"]

    with demo_catalog.unit() as ctx:
        import_holiday_notice(ctx, notice=read_notice(FIXTURE), actor=STEWARD)
    again = demo_api.get("ga", f"/demands/{demand['code']}").json()
    # The fixture's 春节 is 6-14 February with Saturday 20 February worked: the 10th day.
    assert (again["due_date"], again["due_provisional"]) == ("2027-02-20", False)
