"""Served person profiles whose masks do not undo each other, through the real app.

A masked ID number is never served beside a full birth date unless the birth date is granted
raw; 婚姻状况 granted masked is left out and said to be, never ``**``; names hide their length
unless the deployment chooses otherwise. Runs on SQLite against the real Delta lake of
``lake_cases``.
"""

from __future__ import annotations

import re
from datetime import date

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from catalog.domain import Sensitivity
from catalog.models import DataItem, Resource
from exchange_api.app import create_app
from privacy.columnar import served_batch
from privacy.disclosure import BirthDateShown, DisclosureRules, ServedField, plan_fields
from privacy.masking import MaskKind
from tests.exchange_api.api_helpers import Api, data_post
from tests.exchange_api.conftest import PERSON_PURPOSE, _grant
from tests.exchange_api.lake_cases import DEAD, LI, ZHANG

PERSON = "000008002/000002"
MASKED_ID = re.compile(r"\d\*{15}[\dX]{2}")


@pytest.fixture
def database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'catalog.db'}"


def _batch(api: Api, keys: list[str], purpose: str, fields: list[str] | None = None) -> dict:  # type: ignore[type-arg]
    body = {"keys": keys, **({"fields": fields} if fields else {})}
    response = data_post(api, "rs", "/themes/person/profiles/batch", body, purpose)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _declare_birth_date_personal(api: Api) -> None:
    """The provider re-declares 出生日期 as 个人信息, so grants decide raw or masked for it."""
    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        item = ctx.session.scalars(
            select(DataItem)
            .join(Resource)
            .where(Resource.code == PERSON, DataItem.name == "出生日期")
        ).one()
        item.sensitivity = Sensitivity.PERSONAL


def test_a_masked_id_number_is_never_served_beside_a_full_birth_date(data_api: Api) -> None:
    result = _batch(data_api, [ZHANG, LI, DEAD], PERSON_PURPOSE)
    for profile, year in zip(result["data"], ("1980", "1990", "1940"), strict=True):
        fields = profile["fields"]
        assert MASKED_ID.fullmatch(fields["身份证号"]["value"])
        birth = fields["出生日期"]
        assert birth == {**birth, "value": year, "masked": True, "generalised": "year"}
        assert "身份证号" in birth["note"]
    for day in ("1980-01-01", "19800101", "1990-02-02", "1940-03-03"):
        assert day not in str(result)


def test_raw_for_a_birth_date_declared_non_personal_is_no_decision_about_it(
    data_api: Api,
) -> None:
    # 出生日期 is declared 一般 in the theme: every grant delivers it raw by default, so the
    # provider naming it raw decided nothing about personal data either.
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        _grant(ctx, "rs", PERSON, ["身份证号", "出生日期"], "出生日期原文（未登记为个人信息）",
               raw=["出生日期"])  # fmt: skip
    result = _batch(data_api, [ZHANG], "出生日期原文（未登记为个人信息）")
    assert result["data"][0]["fields"]["出生日期"]["value"] == "1980"


def test_a_birth_date_granted_raw_is_served_in_full_beside_a_masked_id(data_api: Api) -> None:
    _declare_birth_date_personal(data_api)
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        _grant(ctx, "rs", PERSON, ["身份证号", "出生日期"], "出生日期原文", raw=["出生日期"])
        _grant(ctx, "rs", PERSON, ["身份证号", "出生日期"], "出生日期脱敏")
    raw = _batch(data_api, [ZHANG], "出生日期原文")["data"][0]["fields"]
    assert MASKED_ID.fullmatch(raw["身份证号"]["value"])
    assert raw["出生日期"] == {**raw["出生日期"], "value": "1980-01-01", "masked": False,
                               "generalised": None}  # fmt: skip
    masked = _batch(data_api, [ZHANG], "出生日期脱敏")["data"][0]["fields"]
    assert masked["出生日期"]["value"] == "1980"  # a year, not 1********1


def test_marriage_status_granted_masked_is_withheld_and_said_to_be(data_api: Api) -> None:
    result = _batch(data_api, [ZHANG, LI], PERSON_PURPOSE)
    for profile in result["data"]:
        assert "婚姻状况" not in profile["fields"]
        assert "原文授权" in profile["withheld"]["婚姻状况"]
    values = [f["value"] for p in result["data"] for f in p["fields"].values()]
    assert not any(isinstance(v, str) and set(v) == {"*"} for v in values)  # nothing all stars
    assert "已婚" not in str(result) and "未婚" not in str(result)
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        _grant(ctx, "rs", PERSON, ["身份证号", "婚姻状况"], "婚姻状况原文", raw=["婚姻状况"])
    granted = _batch(data_api, [ZHANG, LI], "婚姻状况原文")
    assert [p["fields"]["婚姻状况"]["value"] for p in granted["data"]] == ["已婚", "未婚"]
    assert all(p["withheld"] == {} for p in granted["data"])


def test_names_hide_their_length_by_default(data_api: Api) -> None:
    result = _batch(data_api, [LI, ZHANG], PERSON_PURPOSE, fields=["姓名"])
    assert [p["fields"]["姓名"]["value"] for p in result["data"]] == ["李**", "张**"]


def test_a_deployment_may_show_names_per_character_and_birth_dates_as_age_bands(
    data_api: Api, settings, lake_root: str, exchange_settings, clock
) -> None:  # type: ignore[no-untyped-def]
    variant = settings.model_copy(update={"lake_root": lake_root, "name_mask": "per_character"})
    config = exchange_settings.model_copy(update={"birth_date_shown": BirthDateShown.AGE_BAND})
    with TestClient(create_app(variant, clock=clock, exchange_settings=config)) as client:
        api = Api(client=client, keys=data_api.keys, codes=data_api.codes)
        api.catalog = data_api.catalog  # type: ignore[attr-defined]
        result = _batch(
            api, [LI, ZHANG, DEAD], PERSON_PURPOSE, fields=["身份证号", "姓名", "出生日期"]
        )
    names = [p["fields"]["姓名"]["value"] for p in result["data"]]
    ages = [p["fields"]["出生日期"] for p in result["data"]]
    assert names == ["李*", "张**", "王*"]
    # On 2026-03-03 (the test clock): 36, 46 and 85 years old; 80 and over share one band.
    assert [a["value"] for a in ages] == ["30-39", "40-49", "80+"]
    assert all(a["generalised"] == "age_band" for a in ages)


def test_extract_batches_follow_the_same_rules() -> None:
    """Extracts (column by column) apply the plan profiles apply (row by row)."""
    fields = [ServedField("身份证号", MaskKind.ID_NUMBER), ServedField("出生日期", None),
              ServedField("姓名", MaskKind.NAME)]  # fmt: skip
    plans = plan_fields(fields)
    batch = pa.record_batch(
        {
            "身份证号": [ZHANG, None],
            "出生日期": pa.array([date(1980, 1, 1), None], pa.date32()),
            "姓名": ["李四", "张三丰"],
        }
    )
    out = served_batch(batch, plans, DisclosureRules(), date(2026, 3, 3))
    assert out.column("出生日期").to_pylist() == ["1980", None]
    assert out.schema.field("出生日期").type == pa.string()
    assert out.column("姓名").to_pylist() == ["李**", "张**"]
    assert MASKED_ID.fullmatch(out.column("身份证号").to_pylist()[0])
