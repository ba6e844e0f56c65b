"""Attack 13.1: concurrent aggregate calls must not overspend the privacy budget.

16 calls with distinct group-bys, half from a second API process, against a budget that pays
for 4. Before the fix the check and the spend were separate transactions: calls all passed the
check, the releases recorded more ε than the budget (and than ``spent_epsilon``, lost updates).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from catalog.models import AggregateRelease, PrivacyBudgetAccount
from tests.attacks.concurrent import fire_in_two_processes
from tests.exchange_api.conftest import PERSON_FIELDS, PERSON_PURPOSE, _grant

PERSON = "000008002/000002"
DIMENSIONS = ["sex", "age_band", "marital_status", "insurance_status", "region", "city"]
GROUPINGS = [[d] for d in DIMENSIONS] + [
    [a, b] for i, a in enumerate(DIMENSIONS) for b in DIMENSIONS[i + 1 :]
][:10]


pytestmark = pytest.mark.concurrency  # make soak repeats it on PostgreSQL


def test_concurrent_noised_queries_never_overspend_and_the_ledger_agrees(open_api) -> None:  # type: ignore[no-untyped-def]
    budget, epsilon = 2.0, 0.5
    with open_api(budget_epsilon=budget, epsilon_per_query=epsilon) as api:
        with api.catalog.unit() as ctx:
            _grant(ctx, "rs", PERSON, PERSON_FIELDS, PERSON_PURPOSE)
        bodies = [
            {"resource_code": PERSON, "measures": [{"op": "count"}], "group_by": grouping}
            for grouping in GROUPINGS
        ]
        assert len(bodies) == 16
        outcomes = fire_in_two_processes(
            api.client, api.settings, api.config, api.clock(), api.keys["rs"],
            PERSON_PURPOSE, bodies,
        )  # fmt: skip
    statuses = sorted(status for status, _ in outcomes)
    assert 500 not in statuses, outcomes
    answered = [body for status, body in outcomes if status == 200]
    refused = [body for status, body in outcomes if status != 200]
    assert all(body["errorCode"] == "PRIVACY_BUDGET_EXHAUSTED" for body in refused), refused
    charged = sum(body["epsilon_spent"] for body in answered)
    assert charged <= budget, f"{len(answered)} answers charged ε={charged} > budget {budget}"
    assert len(answered) == int(budget / epsilon)  # the budget is spent, not lost to the race
    from privacy.dp import units_epsilon  # the ledger's integer ε steps

    with api.catalog.unit() as ctx:
        (account,) = ctx.session.scalars(select(PrivacyBudgetAccount)).all()
        released = ctx.session.scalar(select(func.sum(AggregateRelease.epsilon)))
    assert units_epsilon(account.spent_units) == released == charged
