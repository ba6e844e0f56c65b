"""A province's API: four uvicorn workers on PostgreSQL under a mixed load from many clients.

Masked profile lookups, 核验, exact and noised aggregates and demand submissions run
together for a bounded time (``--load-seconds``: 10 s in the suite, some 450 calls here;
60 s in ``make soak``). Afterwards:
no server error; the audit chain verifies and holds exactly one entry per answered data call;
the ε budget was never overspent; every demand got its own code; a grant's per-minute limit
held across the workers; and ``/metrics`` (any worker) counted every worker's requests.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select, update

from catalog.models import AuditEntry, Demand, Grant, PrivacyBudgetAccount
from exchange_api.audit import verify_chain
from exchange_api.configuration import ExchangeSettings
from privacy.dp import budget_units
from tests.exchange_api.api_helpers import Api
from tests.exchange_api.conftest import ENTERPRISE_PURPOSE, LICENCE_PURPOSE, PERSON_PURPOSE
from tests.exchange_api.lake_cases import ACME, DEAD, LI, UNKNOWN, ZHANG, company
from tests.exchange_api.servers import server_env, uvicorn_workers

WORKERS = 4
CLIENTS = 50
BUDGET = 2.0  # four fresh noised answers at 0.5 each, then PRIVACY_BUDGET_EXHAUSTED
EPSILON = 0.5
LICENCE_PER_MINUTE = 10  # low on purpose: the limit must hold for all workers together
PERSON = "000008002/000002"
ENTERPRISE = "000008002/000001"
CONDITIONAL = "000002001/000001"  # a 有条件共享 resource: each demand waits for its provider

pytestmark = [
    pytest.mark.slow,
    pytest.mark.concurrency,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@pytest.fixture
def exchange_settings(tmp_path: Path) -> ExchangeSettings:
    """High 核验 quotas (this test is about sharing state, not about the quotas themselves)."""
    return ExchangeSettings(
        signing_key_path=tmp_path / "keys" / "platform.pem",
        snapshot_refresh_seconds=0,
        budget_epsilon=BUDGET,
        epsilon_per_query=EPSILON,
        verify_max_per_case=10**6,
        verify_max_per_subject_per_day=10**6,
        lookup_keys_per_grant_per_day=10**7,
    )


@pytest.fixture
def workers(  # type: ignore[no-untyped-def]
    data_api: Api, settings, exchange_settings: ExchangeSettings, tmp_path: Path
) -> Iterator[str]:
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        grants = data_api.grants  # type: ignore[attr-defined]
        ctx.session.execute(update(Grant).values(rate_limit_per_minute=10**6))
        ctx.session.execute(
            update(Grant)
            .where(Grant.id == grants["licence"])
            .values(rate_limit_per_minute=LICENCE_PER_MINUTE)
        )
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = server_env(
        home=settings.home, database_url=settings.catalog_url,
        lake_root=data_api.client.app.state.settings.lake_root,  # type: ignore[attr-defined]
        signing_key=exchange_settings.signing_key_path,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        **{
            f"GOVSHARE_EXCHANGE_{name.upper()}": str(getattr(exchange_settings, name))
            for name in ("budget_epsilon", "epsilon_per_query", "verify_max_per_case",
                         "verify_max_per_subject_per_day", "lookup_keys_per_grant_per_day")
        },
    )  # fmt: skip
    with uvicorn_workers(env, workers=WORKERS, log=tmp_path / "uvicorn.log") as base:
        yield base


@dataclass
class Answer:
    kind: str
    status: int
    request_id: str | None
    body: dict[str, Any] = field(default_factory=dict)


def _token(http: httpx.Client, key: str) -> str:
    response = http.post("/api/v1/token", headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


_cases = itertools.count()


def _one_call(http: httpx.Client, rng: random.Random, api: Api, token: str) -> Answer:
    """One call of the mix; data calls carry the token, demand submissions the API key."""

    def data(path: str, purpose: str, body: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(purpose)}
        if body is None:
            return http.get(f"/api/v1{path}", headers=headers)
        return http.post(f"/api/v1{path}", json=body, headers=headers)

    case = {"case_ref": f"LOAD-{next(_cases):08d}", "business_matter": "就业困难人员认定"}
    roll = rng.random()
    if roll < 0.30:
        kind = "profile"
        subject = rng.choice((ZHANG, LI, UNKNOWN))
        response = data(f"/themes/person/profiles/{subject}", PERSON_PURPOSE)
    elif roll < 0.40:
        kind = "enterprise"
        response = data(f"/themes/enterprise/profiles/{ACME}", ENTERPRISE_PURPOSE)
    elif roll < 0.50:
        kind = "verify"
        body = {"id_number": rng.choice((ZHANG, LI)), "name": "张三丰", **case}
        response = data("/verify/identity", PERSON_PURPOSE, body)
    elif roll < 0.60:
        kind = "verify"
        body = {"id_number": rng.choice((ZHANG, DEAD)), "check": "alive", **case}
        response = data("/verify/person", PERSON_PURPOSE, body)
    elif roll < 0.65:
        kind = "licence"
        body = {"uscc": rng.choice((ACME, company(2))), "licence_type": "营业执照", **case}
        response = data("/verify/licence", LICENCE_PURPOSE, body)
    elif roll < 0.75:
        kind = "noised"
        group = rng.choice((["sex"], ["age_band"], ["region"], ["sex", "age_band"], []))
        body = {"resource_code": PERSON, "measures": [{"op": "count"}], "group_by": group}
        response = data("/aggregates", PERSON_PURPOSE, body)
    elif roll < 0.85:
        kind = "exact"
        body = {"resource_code": ENTERPRISE, "measures": [{"op": "count"}],
                "group_by": rng.choice((["region"], []))}  # fmt: skip
        response = data("/aggregates", ENTERPRISE_PURPOSE, body)
    else:
        who = rng.choice(("rs", "zj"))
        demand = {
            "resource_code": CONDITIONAL, "wanted_items": ["统一社会信用代码", "纳税信用等级"],
            "purpose": f"高效办成一件事：企业开办（压测 {rng.randrange(10**6)}）",
            "legal_basis": "《优化营商环境条例》",
        }  # fmt: skip
        response = http.post("/api/v1/demands", json=demand, headers={"X-API-Key": api.keys[who]})
        return Answer("demand", response.status_code, None, response.json())
    parsed = response.json() if response.content else {}
    return Answer(kind, response.status_code, response.headers.get("x-request-id"), parsed)


def _load(base: str, api: Api, seconds: float) -> list[Answer]:
    with httpx.Client(base_url=base, timeout=60) as http:
        token = _token(http, api.keys["rs"])
    answers: list[Answer] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        mine = []
        with httpx.Client(base_url=base, timeout=60) as http:
            while time.monotonic() < stop:
                mine.append(_one_call(http, rng, api, token))
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _metric_sum(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith((name + "{", name + " ")):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_four_workers_on_postgresql_under_mixed_load(
    workers: str, data_api: Api, request: pytest.FixtureRequest
) -> None:
    seconds = float(request.config.getoption("--load-seconds"))
    started = time.time()
    answers = _load(workers, data_api, seconds)
    minutes = {int(started // 60), int(time.time() // 60)}

    statuses = Counter((a.kind, a.status) for a in answers)
    assert [a for a in answers if a.status >= 500] == [], statuses
    expected = {
        "profile": {200, 404}, "enterprise": {200}, "verify": {200}, "licence": {200, 429},
        "noised": {200, 403}, "exact": {200}, "demand": {201},
    }  # fmt: skip
    for kind, status in statuses:
        codes = {a.body.get("errorCode") for a in answers if (a.kind, a.status) == (kind, status)}
        assert status in expected[kind], (kind, status, codes, statuses)
    assert all(statuses[(kind, 200 if kind != "demand" else 201)] for kind in expected), statuses

    # The per-minute limit of the licence grant held for all four workers together.
    assert statuses[("licence", 200)] <= LICENCE_PER_MINUTE * len(minutes)

    # A noised question is refused only when the budget cannot pay (or, with noise, a group
    # set it must not release; that answer is charged too).
    noised_refusals = {a.body.get("errorCode") for a in answers if a.kind == "noised"
                       and a.status == 403}  # fmt: skip
    assert noised_refusals <= {"PRIVACY_BUDGET_EXHAUSTED", "QUERY_REFUSED"}
    fresh = [a for a in answers if a.kind == "noised" and a.status == 200
             and not a.body["repeated"]]  # fmt: skip

    data_calls = [a for a in answers if a.kind != "demand"]
    demand_codes = [a.body["code"] for a in answers if a.kind == "demand"]
    assert len(set(demand_codes)) == len(demand_codes)

    exchange = data_api.client.app.state.exchange  # type: ignore[attr-defined]
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        session = ctx.session
        report = verify_chain(session, exchange.key, exchange.audit.checkpoints)
        assert report.ok, report.problem
        assert report.entries == len(data_calls)
        logged = set(session.scalars(select(AuditEntry.request_id)))
        # Every answer, refusals included, names its own entry.
        assert {a.request_id for a in data_calls} == logged
        spent = session.execute(
            select(PrivacyBudgetAccount.spent_units, PrivacyBudgetAccount.total_units)
        ).all()
        assert len(spent) == 1 and spent[0].spent_units <= spent[0].total_units
        stored = list(session.scalars(select(Demand.code)))
        assert len(stored) == len(set(stored)) and set(demand_codes) <= set(stored)
        charged = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.epsilon != "")
        )
    # Every charge is in the audit log, and the ledger holds exactly those charges.
    assert len(fresh) <= charged <= BUDGET / EPSILON
    assert spent[0].spent_units == charged * budget_units(EPSILON)

    # Any worker's /metrics sums every worker's samples (prometheus multiprocess mode).
    text = httpx.get(f"{workers}/metrics", timeout=30).text
    assert _metric_sum(text, "govshare_audit_appends_total") == len(data_calls)
    profiles = _metric_sum(
        text, "govshare_http_request_duration_seconds_count",
        route="/api/v1/themes/{theme}/profiles/{key}",
    )  # fmt: skip
    assert profiles == sum(1 for a in answers if a.kind in ("profile", "enterprise"))
    assert _metric_sum(text, "govshare_dp_epsilon_charged_total") == charged * EPSILON
    print(
        f"\n{len(answers)} calls in {seconds:g} s from {CLIENTS} clients on {WORKERS} workers "
        f"({len(answers) / seconds:.0f}/s): {dict(sorted(statuses.items()))}"
    )
