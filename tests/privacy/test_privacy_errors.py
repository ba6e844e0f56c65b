"""The error hierarchy the exchange API maps to ``{"errorCode", "message"}``."""

from __future__ import annotations

import pytest

from privacy import BudgetExhausted, InvalidPrivacyParameter, PrivacyError


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (BudgetExhausted(requested=0.5, remaining=0.1), 403, "PRIVACY_BUDGET_EXHAUSTED"),
        (InvalidPrivacyParameter("epsilon", "must be > 0"), 422, "INVALID_PRIVACY_PARAMETER"),
        (PrivacyError(), 400, "PRIVACY_ERROR"),
    ],
    ids=["budget", "parameter", "base"],
)
def test_each_error_knows_its_status_code_and_is_not_transient(
    error: PrivacyError, status: int, code: str
) -> None:
    assert isinstance(error, PrivacyError)
    assert error.status_code == status
    assert error.error_code == code
    assert error.transient is False


def test_messages_are_chinese_with_english_beside() -> None:
    error = InvalidPrivacyParameter("epsilon", "must be a finite number > 0")

    assert (
        str(error)
        == "隐私参数无效 (invalid privacy parameter): epsilon: must be a finite number > 0"
    )
    assert error.message == str(error)
    assert error.field == "epsilon"


def test_base_error_without_detail_has_just_the_summary() -> None:
    assert str(PrivacyError()) == "隐私保护处理失败 (privacy protection failed)"
