"""Attacks on what an aggregate reveals before, or instead of, a clean refusal (issue 13, partial).

- Without a grant, a call got 503 naming the internal table (``validated.ga_fugitives 数据尚未
  生成``): the lake was read before the grant was checked.
- After a mount change, ``group_by sex`` gave 500 (DuckDB BinderException): a column the
  catalogue declares but the mounted table lacks must be a 409 naming the field.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from catalog.models import Mount, Resource
from tests.exchange_api.api_helpers import data_post
from tests.exchange_api.conftest import PERSON_PURPOSE, _grant

POPULATION = "000004001/000001"


@pytest.mark.parametrize(
    ("resource", "error"),
    [
        pytest.param("000004003/000001", "SHARE_TYPE_REFUSED", id="not-shared-fugitives"),
        pytest.param("000004001/000002", "NO_GRANT", id="no-grant-deregistrations"),
        # Found by make fuzz: an unmounted resource answered 503 尚未挂接数据 before the grant.
        pytest.param("000002001/000003", "NO_GRANT", id="no-grant-unmounted"),
    ],
)
def test_without_a_grant_nothing_about_the_lake_is_told(open_api, resource, error) -> None:  # type: ignore[no-untyped-def]
    with open_api() as api:
        body = {"resource_code": resource, "measures": [{"op": "count"}]}
        response = data_post(api, "zj", "/aggregates", body, "任意用途")
    assert response.status_code == 403, response.text
    assert response.json()["errorCode"] == error
    assert "validated" not in response.text and "ga_" not in response.text


def test_a_catalogued_column_missing_from_the_mounted_table_is_a_409(open_api) -> None:  # type: ignore[no-untyped-def]
    with open_api() as api:
        with api.catalog.unit() as ctx:
            _grant(ctx, "rs", POPULATION, ["身份证号", "性别", "行政区划代码"], PERSON_PURPOSE)
        with api.catalog.unit() as ctx:  # the provider re-mounts onto a table without 性别
            mount = ctx.session.scalars(
                select(Mount).join(Resource).where(Resource.code == POPULATION)
            ).one()
            mount.target = "ga_population_slim"
        body = {"resource_code": POPULATION, "measures": [{"op": "count"}], "group_by": ["sex"]}
        response = data_post(api, "rs", "/aggregates", body, PERSON_PURPOSE)
    assert response.status_code == 409, response.text
    result = response.json()
    assert result["errorCode"] == "FIELD_NOT_IN_DATA"
    assert "性别" in {d["field"] for d in result["details"]} and "性别" in result["message"]
