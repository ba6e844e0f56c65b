"""Errors of the catalogue; each knows its HTTP status through :class:`GovshareError`."""

from __future__ import annotations

from infra.errors import Conflict, GovshareError, NotAuthorized, NotFound, ValidationError

__all__ = [
    "CatalogError",
    "Conflict",
    "IllegalTransition",
    "NotAuthorized",
    "NotFound",
    "ValidationError",
]


class CatalogError(GovshareError):
    """Base for catalogue-specific failures."""


class IllegalTransition(Conflict):
    """A workflow action that the entity's current state does not allow."""

    error_code = "ILLEGAL_TRANSITION"
