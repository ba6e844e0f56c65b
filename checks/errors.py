"""Errors of rule definitions; each knows its HTTP status."""

from __future__ import annotations

from infra.errors import ValidationError


class BadRule(ValidationError):
    """A steward rule whose kind is not whitelisted or whose parameters do not fit it."""

    error_code = "BAD_RULE"
