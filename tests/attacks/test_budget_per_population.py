"""Attack on the budget's unit (issue 13, partial): a fresh budget per resource on the same people.

After spending the 一人一档 budget, the same persons were queried through 人口基本信息 on a new
budget. The budget belongs to the privacy unit (persons, by ID number), which the catalogue
decides from the data items: every resource with an ID-number item shares it.
"""

from __future__ import annotations

from tests.exchange_api.api_helpers import data_post
from tests.exchange_api.conftest import PERSON_FIELDS, PERSON_PURPOSE, _grant

THEME = "000008002/000002"  # 一人一档
POPULATION = "000004001/000001"  # 人口基本信息
POPULATION_FIELDS = ["身份证号", "姓名", "性别", "出生日期", "行政区划代码"]


def _ask(api, resource, group_by):  # type: ignore[no-untyped-def]
    body = {"resource_code": resource, "measures": [{"op": "count"}], "group_by": group_by}
    return data_post(api, "rs", "/aggregates", body, PERSON_PURPOSE)


def test_a_spent_person_budget_is_spent_for_every_resource_about_persons(open_api) -> None:  # type: ignore[no-untyped-def]
    with open_api(budget_epsilon=1.0, epsilon_per_query=0.5) as api:
        with api.catalog.unit() as ctx:
            _grant(ctx, "rs", THEME, PERSON_FIELDS, PERSON_PURPOSE)
            _grant(ctx, "rs", POPULATION, POPULATION_FIELDS, PERSON_PURPOSE)
        first = _ask(api, THEME, ["sex"])
        assert first.status_code == 200, first.text
        assert _ask(api, THEME, ["age_band"]).json()["budget_remaining"] == 0.0
        other = _ask(api, POPULATION, ["sex"])
        assert other.status_code == 403, f"fresh budget on the same people: {other.text}"
        assert other.json()["errorCode"] == "PRIVACY_BUDGET_EXHAUSTED"
        assert first.json()["privacy_unit"] == "person"
