"""The project's root error.

Every package derives its errors from :class:`GovshareError`, so one handler can turn any of
them into ``{"errorCode", "message"}`` with the right HTTP status, and retry logic can decide
mechanically whether trying again could help.
"""

from __future__ import annotations

from typing import Any, ClassVar


class GovshareError(Exception):
    """Base of all expected errors; the message is safe to show to the caller."""

    status_code: ClassVar[int] = 400
    error_code: ClassVar[str] = "BAD_REQUEST"
    transient: ClassVar[bool] = False

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"errorCode": self.error_code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class NotFound(GovshareError):
    status_code = 404
    error_code = "NOT_FOUND"


class NotAuthorized(GovshareError):
    """The caller is known but may not do this (HTTP 403)."""

    status_code = 403
    error_code = "NOT_AUTHORIZED"


class NotAuthenticated(GovshareError):
    status_code = 401
    error_code = "NOT_AUTHENTICATED"


class ValidationError(GovshareError):
    status_code = 422
    error_code = "VALIDATION_ERROR"


class Conflict(GovshareError):
    status_code = 409
    error_code = "CONFLICT"


class DatabaseUnavailable(GovshareError):
    """The catalogue database cannot be reached or opened: a deployment problem, not bad input.

    Transient: the server may come back. The command line exits with code 3 for it.
    """

    status_code = 503
    error_code = "DATABASE_UNAVAILABLE"
    transient = True


class ConfigurationError(GovshareError):
    status_code = 500
    error_code = "CONFIGURATION_ERROR"
