"""Errors raised by the privacy library.

Every error knows its HTTP status and whether retrying could help, so the exchange API maps them
mechanically to ``{"errorCode", "message"}``. Messages are bilingual (Chinese first, English
beside) and never carry personal data: they name parameters and numbers, never input values.
"""

from __future__ import annotations

from typing import ClassVar

from infra.errors import GovshareError


class PrivacyError(GovshareError):
    """Root of the privacy library's errors (隐私保护错误); callers catch this one type."""

    status_code = 400
    error_code = "PRIVACY_ERROR"
    summary: ClassVar[str] = "隐私保护处理失败 (privacy protection failed)"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail
        super().__init__(f"{self.summary}: {detail}" if detail else self.summary)


class BudgetExhausted(PrivacyError):
    """A query would spend more differential-privacy budget (隐私预算) than remains.

    Not transient: the budget does not refill by itself, a new grant is needed.
    """

    status_code = 403
    error_code = "PRIVACY_BUDGET_EXHAUSTED"
    summary = "隐私预算已用尽 (privacy budget exhausted)"

    def __init__(self, *, requested: float, remaining: float) -> None:
        self.requested = requested
        self.remaining = remaining
        super().__init__(f"requested ε={requested:g}, remaining ε={remaining:g}")


class InvalidPrivacyParameter(PrivacyError):
    """A privacy parameter (ε, k, band width, mask option...) is malformed (隐私参数无效).

    ``field`` names the parameter and ``reason`` says what is wrong; neither may quote a personal
    data value, so callers pass a description, not the offending input.
    """

    status_code = 422
    error_code = "INVALID_PRIVACY_PARAMETER"
    summary = "隐私参数无效 (invalid privacy parameter)"

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")
