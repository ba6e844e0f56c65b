"""Rules row by row on small Spark frames (the ingest task pass), steward rules, references."""

from __future__ import annotations

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from catalog.store import Catalog
from checks.errors import BadRule
from checks.rules import KEY_DUPLICATE_REASON, check_steward_params
from lake.delta import TableRef
from pipelines.classify import duplicate_reason
from quality import service
from quality.evaluate import evaluate, row_reasons
from tests.pipelines.conftest import (
    REG_HEADERS,
    REG_TABLE,
    add_steward_rules,
    company_code,
    person_id,
    registration_row,
)
from tests.quality.conftest import TODAY, registration_rules

pytestmark = pytest.mark.slow

CONTRIBUTIONS = "000003001/000002"


def _reasons(spark, settings, ruleset, rows, headers=REG_HEADERS) -> list[list[str]]:  # type: ignore[no-untyped-def]
    schema = ", ".join([*(f"`{h}` string" for h in headers), "_row_number long"])
    frame = spark.createDataFrame(
        [[None if v == "" else v for v in row] + [i + 1] for i, row in enumerate(rows)], schema
    )
    found = row_reasons(frame, ruleset, spark=spark, settings=settings)
    return [sorted(found.get(i + 1, [])) for i in range(len(rows))]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({}, []),
        ({"统一社会信用代码": ""}, ["统一社会信用代码：必填项为空 (required value missing)"]),
        (
            {"统一社会信用代码": company_code(7)[:-1] + "0"},
            ["统一社会信用代码：统一社会信用代码格式或校验位错误"],
        ),
        ({"注册资本": "abc"}, ["注册资本：不是有效的货币型 (not a valid MONEY)"]),
        ({"注册资本": "-10"}, ["注册资本：金额为负 (negative amount)"]),
        ({"成立日期": "2027-01-01"}, ["成立日期：日期晚于当天 (date in the future)"]),
        ({"成立日期": "2026年3月3日"}, []),
        ({"行政区划代码": "999999"}, ["行政区划代码：行政区划代码不存在"]),
        ({"行业代码": "C1399"}, ["行业代码：超过长度 4 (too long)"]),
    ],
    ids=[
        "clean",
        "required",
        "uscc-check-digit",
        "type",
        "negative-money",
        "future-date",
        "today-is-fine",
        "region",
        "length",
    ],
)
def test_generated_rule_fails_exactly_the_bad_row(lake_settings, spark, override, expected) -> None:
    ruleset = registration_rules(lake_settings)
    reasons = _reasons(spark, lake_settings, ruleset, [registration_row(7, **override)])
    assert reasons == [sorted(expected)]


def test_later_duplicate_key_fails_and_first_occurrence_passes(lake_settings, spark) -> None:
    ruleset = registration_rules(lake_settings)
    rows = [registration_row(1), registration_row(2), registration_row(1, 企业名称="重复")]
    assert _reasons(spark, lake_settings, ruleset, rows) == [[], [], [duplicate_reason(1)]]
    assert duplicate_reason(1).startswith(KEY_DUPLICATE_REASON.split(" ")[0])


def test_steward_rules_join_the_generated_ones(lake_settings, spark) -> None:
    add_steward_rules(
        lake_settings,
        ("企业状态", "in_set", {"values": ["存续", "注销"]}),
        ("注册资本", "between", {"max": 1_000_000}),
        ("企业名称", "regex", {"pattern": "公司$"}),
        ("法定代表人", "unique", {}),
    )
    ruleset = registration_rules(lake_settings)
    origins = {r.id.split(":")[0] for r in ruleset.rules if r.origin == "steward"}
    assert len(origins) == 4
    rows = [
        registration_row(1, 法定代表人="甲"),
        registration_row(2, 企业状态="歇业", 法定代表人="乙"),
        registration_row(3, 注册资本="2000000", 法定代表人="丙"),
        registration_row(4, 企业名称="杭州测试合作社", 法定代表人="丁"),
        registration_row(5, 法定代表人="丁"),
    ]
    reasons = _reasons(spark, lake_settings, ruleset, rows)
    assert reasons[0] == []
    assert len(reasons[1]) == 1 and reasons[1][0].startswith("企业状态：取值应为")
    assert len(reasons[2]) == 1 and reasons[2][0].startswith("注册资本：取值应在")
    assert any(r.startswith("企业名称：应符合格式") for r in reasons[3])
    assert any(r.startswith("法定代表人：取值唯一") for r in reasons[3])
    assert [r for r in reasons[4] if r.startswith("法定代表人")] != []


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("sql", {"where": "1=1"}),
        ("between", {}),
        ("between", {"min": 5, "max": 1}),
        ("in_set", {"values": []}),
        ("regex", {"pattern": "("}),
        ("length", {"max": "ten"}),
        ("not_null", {"extra": 1}),
    ],
    ids=["free-sql", "no-bounds", "min-over-max", "empty-set", "bad-regex", "length-text", "extra"],
)
def test_steward_rule_kinds_are_whitelisted(kind, params) -> None:
    with pytest.raises(BadRule):
        check_steward_params(kind, params)


def test_reference_rule_checks_the_base_table_with_one_join(lake_settings, spark) -> None:
    # The 法人 base table holds companies 1..3; the population table persons 1..2.
    root = lake_settings.lake_path
    write_deltalake(
        TableRef(root, "validated", REG_TABLE).uri,
        pa.table({"统一社会信用代码": [company_code(n) for n in (1, 2, 3)]}),
    )
    write_deltalake(
        TableRef(root, "validated", "ga_population").uri,
        pa.table({"身份证号": [person_id(n) for n in (1, 2)]}),
    )
    catalog = Catalog(lake_settings)
    with catalog.unit() as ctx:
        ruleset = service.ruleset_for(ctx, CONTRIBUTIONS, today=TODAY)
    catalog.dispose()
    references = {r.item: r.reference.library for r in ruleset.reference_rules}  # type: ignore[union-attr]
    assert references == {"身份证号": "人口", "参保单位统一社会信用代码": "法人"}
    headers = [i.name for i in ruleset.items]

    def row(person: int, company: int, month: str = "202601") -> list[str]:
        values = {
            "身份证号": person_id(person), "姓名": "张三", "险种": "养老", "缴费月份": month,
            "参保单位统一社会信用代码": company_code(company), "缴费基数": "5000",
            "参保状态": "正常",
        }  # fmt: skip
        return [values[h] for h in headers]

    rows = [row(1, 1), row(2, 9), row(5, 2), row(1, 3, month="202613")]
    reasons = _reasons(spark, lake_settings, ruleset, rows, headers)
    assert reasons[0] == []
    assert reasons[1] == [
        "参保单位统一社会信用代码：法人库中不存在该统一社会信用代码 (not in the 法人 base table)"
    ]
    assert reasons[2] == ["身份证号：人口库中不存在该身份证号 (not in the 人口 base table)"]
    assert reasons[3] == ["缴费月份：不符合规定格式 (does not match the format)"]


def test_counts_add_up_and_sample_is_masked(lake_settings, spark) -> None:
    ruleset = registration_rules(lake_settings)
    rows = [registration_row(n, 法定代表人="张三丰") for n in range(1, 21)]
    rows[4] = registration_row(5, 注册资本="abc", 法定代表人="张三丰")
    rows[9] = registration_row(10, 统一社会信用代码="", 法定代表人="张三丰")
    schema = ", ".join(f"`{h}` string" for h in REG_HEADERS)
    frame = spark.createDataFrame([[v or None for v in r] for r in rows], schema)
    result = evaluate(frame, ruleset, spark=spark, settings=lake_settings)
    assert (result.rows_read, result.rows_failed, result.rows_passed) == (20, 2, 18)
    assert result.counts["type:注册资本"] == 1 and result.counts["required:统一社会信用代码"] == 1
    assert sum(result.counts.values()) == 2
    assert {s["values"]["法定代表人"] for s in result.sample} == {"张**"}


def test_duplicate_key_is_found_when_a_unique_rule_rides_in_the_key_files(
    lake_settings, spark
) -> None:
    # The unique rule's column travels with the keys; it must not split equal keys apart.
    add_steward_rules(lake_settings, ("法定代表人", "unique", {}))
    ruleset = registration_rules(lake_settings)
    rows = [registration_row(n, 法定代表人=f"代表{n}") for n in range(1, 41)]
    # Ten repeated keys: hashed with the other column, each pair split across the two
    # buckets half the time, and the check missed them.
    rows += [registration_row(n, 法定代表人=f"另一人{n}") for n in range(1, 11)]
    reasons = _reasons(spark, lake_settings, ruleset, rows)
    assert reasons[40:] == [[duplicate_reason(n)] for n in range(1, 11)]
    assert all(r == [] for r in reasons[:40])
