"""Errors of the quality gate; each knows its HTTP status and whether a retry could help."""

from __future__ import annotations

from infra.errors import Conflict, GovshareError, NotAuthorized, NotFound, ValidationError

__all__ = [
    "BadRule",
    "GateStateError",
    "NotAuthorized",
    "NotFound",
    "QualityError",
    "ValidationError",
]


class QualityError(GovshareError):
    """Base of quality-gate failures."""

    status_code = 422
    error_code = "QUALITY_ERROR"


class BadRule(ValidationError):
    """A steward rule whose kind is not whitelisted or whose parameters do not fit it."""

    error_code = "BAD_RULE"


class GateStateError(Conflict):
    """A release or reject of a batch that is not held (already decided, or never held)."""

    error_code = "GATE_STATE"
