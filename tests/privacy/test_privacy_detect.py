"""Recognising identifiers by value, and redacting them from log text."""

from __future__ import annotations

import pytest

from infra.redaction import REDACTED, redact
from privacy.detect import identifier_kind_of, value_kind
from privacy.masking import MaskKind
from tests.exchange_api.lake_cases import company, person_id

PERSON = person_id("110101", "19800101", 11)
INDIVIDUAL = "92" + company(5)[2:-1]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([PERSON, person_id("110101", "19900202", 22), None], MaskKind.ID_NUMBER,
                     id="id-numbers"),
        pytest.param(["13812345678", "15900001111", ""], MaskKind.MOBILE, id="mobiles"),
        pytest.param([company(1), company(2)], None, id="enterprise-uscc-is-public"),
        pytest.param([PERSON, "x", "y"], None, id="a-minority-is-not-a-column-of-ids"),
        pytest.param([], None, id="empty"),
    ],
)  # fmt: skip
def test_identifier_columns_are_recognised_by_value(
    values: list[object], expected: MaskKind | None
) -> None:
    assert identifier_kind_of(values) == expected


def test_an_individual_business_code_is_personal() -> None:
    from stdnum.cn import uscc

    code = INDIVIDUAL + uscc.calc_check_digit(INDIVIDUAL)
    assert value_kind(code) is MaskKind.GENERIC


@pytest.mark.parametrize(
    "text",
    [
        f'"GET /api/v1/themes/person/profiles/{PERSON} HTTP/1.1" 200',
        f"/profiles/{PERSON[:-1]}X?x=1",
        f"key={company(1)}&p=2",
        "phone 13812345678 and +8613812345678",
        f"身份证号{PERSON}已提交",
        "old 110101800101001 id",
    ],
)
def test_log_text_keeps_no_identifier(text: str) -> None:
    cleaned = redact(text)
    assert REDACTED in cleaned
    assert not any(ch.isdigit() for ch in cleaned.replace("1.1", "").replace("200", "")
                   .replace("v1", "").replace("=1", "").replace("=2", ""))  # fmt: skip


def test_ordinary_log_text_is_untouched() -> None:
    text = 'INFO 127.0.0.1:5000 - "POST /api/v1/token HTTP/1.1" 200 OK seq=12 a1b2c3d4e5f6'
    assert redact(text) == text
