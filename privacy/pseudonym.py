"""Keyed pseudonyms (假名化) so departments can link their own records without seeing identifiers.

Each consuming department (and optionally each purpose) gets its own key derived with HKDF from
the platform secret, so one person's pseudonym is stable inside a department but different across
departments: two departments cannot join their extracts on it without the platform.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from privacy.errors import InvalidPrivacyParameter

MIN_SECRET_BYTES = 16
"""Below 128 bits a secret could be brute-forced and every pseudonym reversed by enumeration."""

MIN_LENGTH = 16
"""Shortest pseudonym (hex digits = 64 bits) at which collisions stay negligible for a nation."""

MAX_LENGTH = 64
"""A full HMAC-SHA256 tag in hex."""

_HKDF_SALT = b"govshare/privacy/pseudonym/v1"


def _encode_context(department: str, purpose: str | None) -> bytes:
    """Length-prefix each part so no department/purpose pair can imitate another."""
    parts = [department.encode()]
    if purpose is not None:
        parts.append(purpose.encode())
    encoded = b"".join(len(part).to_bytes(4, "big") + part for part in parts)
    return bytes([len(parts)]) + encoded


def department_key(*, secret: bytes, department: str, purpose: str | None = None) -> bytes:
    """Derive the 32-byte HMAC key of one department (and purpose) from the platform secret."""
    if not isinstance(secret, bytes | bytearray):
        raise InvalidPrivacyParameter("secret", "must be bytes")
    if len(secret) < MIN_SECRET_BYTES:
        raise InvalidPrivacyParameter("secret", f"must be at least {MIN_SECRET_BYTES} bytes")
    if not isinstance(department, str) or not department.strip():
        raise InvalidPrivacyParameter("department", "must be a non-empty string")
    if purpose is not None and not isinstance(purpose, str):
        raise InvalidPrivacyParameter("purpose", "must be a string or None")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_HKDF_SALT,
        info=_encode_context(department, purpose),
    )
    return hkdf.derive(bytes(secret))


def make_pseudonymiser(
    *, secret: bytes, department: str, purpose: str | None = None, length: int = 32
) -> Callable[[str], str]:
    """Return a function pseudonymising many values with one derived key (one HKDF per batch).

    Values are NFC-normalised first so the same Chinese name typed in composed or decomposed form
    gets the same pseudonym; other normalisation (case of the ID check digit, spaces) is the
    caller's, since it depends on the identifier.
    """
    if isinstance(length, bool) or not isinstance(length, int):
        raise InvalidPrivacyParameter("length", "must be an integer")
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise InvalidPrivacyParameter("length", f"must be between {MIN_LENGTH} and {MAX_LENGTH}")
    key = department_key(secret=secret, department=department, purpose=purpose)

    def pseudonymiser(value: str) -> str:
        if not isinstance(value, str):
            raise TypeError(f"pseudonymise expects str, got {type(value).__name__}")
        message = unicodedata.normalize("NFC", value).encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()[:length]

    return pseudonymiser


def pseudonymise(
    value: str, *, secret: bytes, department: str, purpose: str | None = None, length: int = 32
) -> str:
    """Pseudonymise one value for ``department``: ``length`` lower-case hex digits of an HMAC."""
    return make_pseudonymiser(secret=secret, department=department, purpose=purpose, length=length)(
        value
    )
