"""Fixtures of the exchange API tests: a real app on the real catalogue, both backends.

Keys are issued through ``catalog.keys`` exactly as ``govshare keys create`` does, and every
request goes through the full ASGI stack (routing, dependencies, handlers, serialisation).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from catalog import keys
from catalog.domain import Role
from catalog.store import Catalog
from demo.catalog import DEPT
from exchange_api.app import create_app
from infra.settings import Settings
from tests import factories
from tests.exchange_api.api_helpers import Api, Clock
from tests.factories import STEWARD


def _issue(catalog: Catalog, wanted: dict[str, tuple[str, Role]]) -> dict[str, str]:
    issued = {}
    with catalog.unit() as ctx:
        for name, (code, role) in wanted.items():
            _key, plaintext = keys.create_key(
                ctx, department_code=code, role=role, label=f"test {name}", actor=STEWARD
            )
            issued[name] = plaintext
    return issued


def _client(settings: Settings, clock: Clock) -> TestClient:
    return TestClient(create_app(settings, clock=clock))


@pytest.fixture
def demo_api(demo_catalog: Catalog, settings: Settings, clock: Clock) -> Iterator[Api]:
    """The demo city's catalogue with a steward key and keys for five departments."""
    wanted = {"steward": (DEPT["sjj"], Role.STEWARD)}
    wanted |= {name: (DEPT[name], Role.DEPARTMENT) for name in ("scjg", "sw", "rs", "ga", "zj")}
    issued = _issue(demo_catalog, wanted)
    with _client(settings, clock) as client:
        yield Api(client=client, keys=issued, codes=dict(DEPT))


@pytest.fixture
def small_api(catalog: Catalog, settings: Settings, clock: Clock) -> Iterator[Api]:
    """Three departments (the first is the data authority) and nothing else: fast to build."""
    with catalog.unit() as ctx:
        authority = factories.department(ctx, 1, is_data_authority=True)
        first = factories.department(ctx, 2)
        second = factories.department(ctx, 3)
        codes = {"authority": authority.code, "first": first.code, "second": second.code}
    issued = _issue(
        catalog,
        {
            "steward": (codes["authority"], Role.STEWARD),
            "first": (codes["first"], Role.DEPARTMENT),
            "second": (codes["second"], Role.DEPARTMENT),
        },
    )
    with _client(settings, clock) as client:
        yield Api(client=client, keys=issued, codes=codes)


# ---- data endpoints (themes, 核验, aggregates, extracts) ----------------------------------

PERSON_PURPOSE = "就业困难人员认定"
ENTERPRISE_PURPOSE = "企业吸纳就业补贴"
LICENCE_PURPOSE = "免证办：营业执照核验"
EXTRACT_PURPOSE = "企业名录比对"
PERSON_FIELDS = [
    "身份证号",
    "姓名",
    "性别",
    "出生日期",
    "户籍地址",
    "婚姻状况",
    "参保状态",
    "是否在世",
]


@pytest.fixture(scope="session")
def lake_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    from tests.exchange_api.lake_cases import build_lake

    return build_lake(tmp_path_factory.mktemp("lake"))


def _grant(
    ctx, requester: str, resource: str, items: list[str], purpose: str, raw: list[str] | None = None
) -> int:  # type: ignore[no-untyped-def]
    """A demand by ``requester`` answered by the provider (or granted at once)."""
    from catalog import demands
    from catalog.context import Actor
    from catalog.schemas import DemandDecisionIn, DemandIn

    demand = demands.submit_demand(
        ctx,
        requester_code=DEPT[requester],
        spec=DemandIn(
            resource_code=resource, wanted_items=items, purpose=purpose, legal_basis="测试依据"
        ),
        actor=Actor.department(DEPT[requester]),
    )
    if demand.grant is None:
        provider = demand.provider.code  # type: ignore[union-attr]
        demands.decide_demand(
            ctx,
            code=demand.code,
            decision=DemandDecisionIn(approve=True, reason="同意", raw_fields=raw or []),
            actor=Actor.department(provider),
        )
    assert demand.grant is not None
    return demand.grant.id


@pytest.fixture
def exchange_settings(tmp_path):  # type: ignore[no-untyped-def]
    from exchange_api.configuration import ExchangeSettings

    return ExchangeSettings(
        signing_key_path=tmp_path / "keys" / "platform.pem",
        snapshot_refresh_seconds=0,
        budget_epsilon=1.0,
        epsilon_per_query=0.5,
    )


@pytest.fixture
def data_api(
    demo_catalog: Catalog, settings: Settings, clock: Clock, lake_root: str, exchange_settings
) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    """The demo catalogue on a lake with both themes; 人社 holds grants, 住建 holds none."""
    from demo.catalog import ENTERPRISE_THEME as ENTERPRISE
    from demo.catalog import PERSON_THEME as PERSON

    with demo_catalog.unit() as ctx:
        grants = {
            "person": _grant(ctx, "rs", PERSON, PERSON_FIELDS, PERSON_PURPOSE),
            "enterprise": _grant(
                ctx, "rs", ENTERPRISE,
                ["统一社会信用代码", "企业名称", "法定代表人", "注册资本", "企业状态"],
                ENTERPRISE_PURPOSE, raw=["法定代表人"],
            ),
            "licence": _grant(
                ctx, "rs", "000008001/000001", ["持证主体代码", "证照类型", "有效期至", "证照状态"],
                LICENCE_PURPOSE,
            ),
            "registration": _grant(
                ctx, "rs", "000001001/000001",
                ["统一社会信用代码", "企业名称", "法定代表人", "行政区划代码", "行业代码"],
                EXTRACT_PURPOSE,
            ),
        }  # fmt: skip
    issued = _issue(
        demo_catalog,
        {
            "steward": (DEPT["sjj"], Role.STEWARD),
            "rs": (DEPT["rs"], Role.DEPARTMENT),
            "zj": (DEPT["zj"], Role.DEPARTMENT),
            "sjj": (DEPT["sjj"], Role.DEPARTMENT),
        },
    )
    lake_settings = settings.model_copy(update={"lake_root": lake_root})
    app = create_app(lake_settings, clock=clock, exchange_settings=exchange_settings)
    with TestClient(app) as client:
        api = Api(client=client, keys=issued, codes=dict(DEPT))
        api.grants = grants  # type: ignore[attr-defined]
        api.catalog = demo_catalog  # type: ignore[attr-defined]
        yield api
