"""Errors of the quality gate; each knows its HTTP status and whether a retry could help."""

from __future__ import annotations

from infra.errors import Conflict, GovshareError, NotAuthorized, NotFound, ValidationError

__all__ = [
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


class GateStateError(Conflict):
    """A release or reject of a batch that is not held (already decided, or never held)."""

    error_code = "GATE_STATE"
