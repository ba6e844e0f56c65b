"""Errors of data serving; each knows its HTTP status (via :class:`GovshareError`).

A refusal names *which* condition failed (no grant, expired, field, purpose, budget...)
and never anything about the data itself: not whether a key exists beyond what the grant
allows, never a value.
"""

from __future__ import annotations

from typing import ClassVar

from infra.errors import Conflict, GovshareError, NotAuthenticated, NotAuthorized


class AccessDenied(NotAuthorized):
    """403 with a machine-readable reason code beside the Chinese message."""

    reason: ClassVar[str] = "DENIED"

    def __init__(self, message: str, *, details: object = None) -> None:
        super().__init__(message, details=details)


class NoGrant(AccessDenied):
    error_code = "NO_GRANT"


class GrantExpired(AccessDenied):
    error_code = "GRANT_EXPIRED"


class GrantRevoked(AccessDenied):
    error_code = "GRANT_REVOKED"


class FieldNotGranted(AccessDenied):
    error_code = "FIELD_NOT_GRANTED"


class PurposeMismatch(AccessDenied):
    error_code = "PURPOSE_MISMATCH"


class ShareTypeRefused(AccessDenied):
    error_code = "SHARE_TYPE_REFUSED"


class QueryRefused(AccessDenied):
    """An aggregate whose filters single out too few records (differencing protection)."""

    error_code = "QUERY_REFUSED"


class RateLimited(GovshareError):
    """The grant's requests-per-minute are used up; retrying after the window helps."""

    status_code = 429
    error_code = "RATE_LIMITED"
    transient = True

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FieldMasked(AccessDenied):
    """A 核验 computed from a field the grant delivers masked would reveal the masked value."""

    error_code = "FIELD_MASKED"


class TooManySignIns(GovshareError):
    """Too many failed sign-ins from this client or for this key id in the current window."""

    status_code = 429
    error_code = "TOO_MANY_SIGN_INS"
    transient = True

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QuotaExceeded(GovshareError):
    """A quota counted per case, subject or day is used up; retrying now does not help."""

    status_code = 429
    error_code = "QUOTA_EXCEEDED"


class TokenRequired(NotAuthenticated):
    error_code = "TOKEN_REQUIRED"


class InvalidToken(NotAuthenticated):
    error_code = "INVALID_TOKEN"


class FieldNotInData(Conflict):
    """The mounted table lacks a column the catalogue declares (mount and catalogue disagree).

    A 409, not a 500: the call is valid, the data behind it is out of step with its catalogue
    entry until the provider fixes the mount. Only asked after the grant check passed.
    """

    error_code = "FIELD_NOT_IN_DATA"


class SharingNotFound(GovshareError):
    """A share, schema or table the caller's grants do not hold (Delta Sharing's 404 code).

    The same answer for "does not exist" and "not yours", so probing reveals nothing.
    """

    status_code = 404
    error_code = "RESOURCE_DOES_NOT_EXIST"


class SharingBadParameter(GovshareError):
    status_code = 400
    error_code = "INVALID_PARAMETER_VALUE"


class FileUrlRefused(NotAuthorized):
    """A file URL whose signature is wrong, whose time is up, or whose grant has ended."""

    error_code = "FORBIDDEN"


class AuditUnavailable(GovshareError):
    """The call's audit entry could not be committed, so the call is not answered with data.

    Transient: the group commit it was part of failed (database busy, down or refusing a
    row); a retry writes a new entry.
    """

    status_code = 503
    error_code = "AUDIT_UNAVAILABLE"
    transient = True
