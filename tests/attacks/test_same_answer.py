"""Attack 12.3: asking the same noised question many times at once to average the noise away.

20 identical queries, half from a second API process, on the first use of the budget: every
caller must get the one stored answer, charged once, and no caller a 500 from the race to
create the budget row (PostgreSQL gave 500s, SQLite 19 different answers).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from catalog.models import AggregateRelease
from tests.attacks.concurrent import fire_in_two_processes
from tests.exchange_api.conftest import PERSON_FIELDS, PERSON_PURPOSE, _grant

PERSON = "000008002/000002"


pytestmark = pytest.mark.concurrency  # make soak repeats it on PostgreSQL


def test_twenty_identical_concurrent_queries_get_one_answer_and_one_charge(open_api) -> None:  # type: ignore[no-untyped-def]
    with open_api(budget_epsilon=5.0, epsilon_per_query=0.5) as api:
        with api.catalog.unit() as ctx:
            _grant(ctx, "rs", PERSON, PERSON_FIELDS, PERSON_PURPOSE)
        body = {"resource_code": PERSON, "measures": [{"op": "count"}], "group_by": ["sex"]}
        outcomes = fire_in_two_processes(
            api.client, api.settings, api.config, api.clock(), api.keys["rs"],
            PERSON_PURPOSE, [body] * 20,
        )  # fmt: skip
        assert [status for status, _ in outcomes] == [200] * 20, outcomes
        answers = {repr(result["groups"]) for _, result in outcomes}
        assert len(answers) == 1, f"{len(answers)} different answers to one question"
        fresh = [result for _, result in outcomes if not result["repeated"]]
        assert len(fresh) == 1 and fresh[0]["epsilon_spent"] == 0.5
        # The next call sees exactly one charge on the budget.
        later = api.client.post(
            "/api/v1/aggregates",
            json=body | {"group_by": ["age_band"]},
            headers=_headers(api),
        ).json()
        assert later["budget_remaining"] == 4.0, later
    with api.catalog.unit() as ctx:
        releases = ctx.session.scalars(select(AggregateRelease)).all()
    assert len(releases) == 2


def _headers(api):  # type: ignore[no-untyped-def]
    from tests.exchange_api.api_helpers import data_headers

    return data_headers(api, "rs", PERSON_PURPOSE)
