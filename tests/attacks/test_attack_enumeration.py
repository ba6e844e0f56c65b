"""Attack 13 (partial): enumerating people with batch lookups.

Batches of generated ID numbers found every person, because a batch counted as one call.
Every key now counts: against the grant's per-minute limit and against a daily cap of keys
per grant purpose that lives in the database (shared by workers); reaching the cap alerts
the provider.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from catalog.models import Grant
from exchange_api.app import create_app
from tests.attacks.conftest import KEYS_PER_DAY
from tests.exchange_api.api_helpers import Api, data_headers, data_post
from tests.exchange_api.conftest import PERSON_PURPOSE
from tests.exchange_api.lake_cases import ZHANG, person_id

BATCH = "/themes/person/profiles/batch"


def _generated(n: int, start: int = 0) -> list[str]:
    """ID numbers as an enumerator makes them: a known region and birthday, every sequence."""
    return [person_id("110105", "19600101", seq) for seq in range(start, start + n)]


def test_a_batch_counts_each_key_against_the_per_minute_limit(data_api: Api) -> None:
    api = data_api
    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        ctx.session.execute(
            update(Grant).where(Grant.id == api.grants["person"]).values(rate_limit_per_minute=10)  # type: ignore[attr-defined]
        )
    first = data_post(api, "rs", BATCH, {"keys": _generated(8)}, PERSON_PURPOSE)
    assert first.status_code == 200, first.text
    second = data_post(api, "rs", BATCH, {"keys": _generated(5, 8)}, PERSON_PURPOSE)
    assert second.status_code == 429 and second.json()["errorCode"] == "RATE_LIMITED"
    whole = data_post(api, "rs", BATCH, {"keys": _generated(11, 100)}, PERSON_PURPOSE)
    assert whole.status_code == 422, whole.text  # more keys than the grant allows a minute


def test_keys_per_purpose_per_day_are_capped_across_workers(
    data_api: Api, settings: Any, lake_root: str, exchange_settings: Any, clock: Any
) -> None:
    """The reproduced attack: batch after batch of generated IDs, alternating workers."""
    api = data_api
    other = TestClient(
        create_app(settings.model_copy(update={"lake_root": lake_root}), clock=clock,
                   exchange_settings=exchange_settings)
    )  # fmt: skip
    looked_up = 0
    with other:
        clients = [api.client, other]
        statuses = []
        for n in range(5):
            keys = _generated(10, 10 * n)
            response = clients[n % 2].post(
                f"/api/v1{BATCH}", json={"keys": keys},
                headers=data_headers(api, "rs", PERSON_PURPOSE),
            )  # fmt: skip
            statuses.append(response.status_code)
            if response.status_code == 200:
                looked_up += len(keys)
        assert statuses == [200, 200, 200, 200, 429], statuses
        assert looked_up == KEYS_PER_DAY
        single = data_post(api, "rs", "/themes/person/profiles/lookup", {"key": ZHANG},
                           PERSON_PURPOSE)  # fmt: skip
        assert single.status_code == 429 and single.json()["errorCode"] == "QUOTA_EXCEEDED"
    alerts = api.get("sjj", "/audit/alerts").json()
    assert [a["kind"] for a in alerts] == ["lookup_quota"]
    clock.advance(days=1)  # a new day: the cap starts again
    again = data_post(api, "rs", "/themes/person/profiles/lookup", {"key": ZHANG}, PERSON_PURPOSE)
    assert again.status_code == 200, again.text
