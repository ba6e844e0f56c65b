"""Attacks on the side channels of noised aggregates (issue 13, partial).

- The count of suppressed groups plus the released groups gave the true number of non-empty
  groups, exactly, beside the noised values.
- The "fewer than k records" refusal of a filter used the true count and cost nothing, so a
  department could probe, free and exactly, whether a filter matches fewer than k persons.
"""

from __future__ import annotations

import pytest

from tests.exchange_api.api_helpers import data_post
from tests.exchange_api.conftest import PERSON_FIELDS, PERSON_PURPOSE, _grant

PERSON = "000008002/000002"


def _ask(api, group_by, filters=None):  # type: ignore[no-untyped-def]
    body = {"resource_code": PERSON, "measures": [{"op": "count"}], "group_by": group_by,
            "filters": filters or {}}  # fmt: skip
    return data_post(api, "rs", "/aggregates", body, PERSON_PURPOSE)


@pytest.fixture
def api(open_api):  # type: ignore[no-untyped-def]
    # ε 2 per query: a filtered count splits it in two shares of 1 (noise scale 1), so an
    # empty filter is refused with near certainty (P(Lap(1) >= 10) ~ 2e-5).
    with open_api(budget_epsilon=6.0, epsilon_per_query=2.0) as api:
        with api.catalog.unit() as ctx:
            _grant(ctx, "rs", PERSON, PERSON_FIELDS, PERSON_PURPOSE)
        yield api


def test_noised_answers_do_not_count_their_hidden_groups(api) -> None:  # type: ignore[no-untyped-def]
    response = _ask(api, ["age_band"])
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["noise"].startswith("laplace")
    assert result["suppressed_groups"] is None, "hidden groups + released = true group count"


def test_refusing_a_too_small_filter_is_noisy_and_paid_for(api) -> None:  # type: ignore[no-untyped-def]
    refused = _ask(api, ["sex"], {"marital_status": "离异"})  # nobody: 0 < k
    assert refused.status_code == 403 and refused.json()["errorCode"] == "QUERY_REFUSED"
    again = _ask(api, ["sex"], {"marital_status": "离异"})  # the same question: same answer, free
    assert again.status_code == 403 and again.json()["errorCode"] == "QUERY_REFUSED"
    answered = _ask(api, ["sex"])
    assert answered.status_code == 200, answered.text
    assert answered.json()["budget_remaining"] == 2.0, "the refusal must have been charged once"
