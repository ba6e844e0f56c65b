"""Short-lived access tokens (访问令牌): a department key is exchanged for one, data calls use it.

The token is a compact JWS (``header.payload.signature``, alg EdDSA) signed with the platform
key. The long-lived API key travels only to the token endpoint; a leaked token expires in
minutes (15 by default). Revoking a key ends its tokens at once too: each verification asks
whether the key the token was exchanged for is still live (one indexed lookup), since a
government exchange cannot leave a revoked credential working for a quarter of an hour.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from catalog.context import Actor
from catalog.domain import Role
from exchange_api.exceptions import InvalidToken
from exchange_api.signing import PlatformKey

ISSUER = "govshare"
INVALID_TOKEN_MESSAGE = "访问令牌无效 (invalid access token)"
EXPIRED_TOKEN_MESSAGE = "访问令牌已过期，请重新换取 (access token expired)"
CLOCK_SKEW_SECONDS = 30
_T = TypeVar("_T")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    expires_in: int


def looks_like_token(credential: str) -> bool:
    return credential.count(".") == 2 and not credential.startswith("gs_")


class TokenService:
    """Issues and checks access tokens against the app's clock (tests travel in time)."""

    def __init__(
        self,
        key: PlatformKey,
        *,
        ttl_seconds: int,
        clock: Callable[[], datetime],
        key_is_live: Callable[[str, Actor], bool] | None = None,
    ) -> None:
        self.key = key
        self.ttl = ttl_seconds
        self.clock = clock
        # Asked on every verification: a token dies with the key it was exchanged for.
        self.key_is_live = key_is_live
        self._header = _b64(
            json.dumps(
                {"alg": "EdDSA", "typ": "JWT", "kid": key.key_id}, separators=(",", ":")
            ).encode()
        )

    def issue(self, actor: Actor, *, key_id: str) -> IssuedToken:
        now = int(self.clock().timestamp())
        payload = {
            "iss": ISSUER,
            "sub": actor.department_code,
            "role": str(actor.role),
            "name": actor.name,
            "key": key_id,
            "iat": now,
            "exp": now + self.ttl,
            "jti": secrets.token_hex(8),
        }
        body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
        signing_input = f"{self._header}.{body}".encode("ascii")
        token = f"{self._header}.{body}.{_b64(self.key.sign(signing_input))}"
        expires = datetime.fromtimestamp(now + self.ttl, tz=self.clock().tzinfo)
        return IssuedToken(token=token, expires_at=expires, expires_in=self.ttl)

    def verify(self, token: str) -> Actor:
        """The actor a token speaks for; any defect is the same 401 (expiry says so).

        Everything before the signature check is attacker-controlled, so each segment is
        checked for shape and type (base64url text, a JSON object, string fields) before it
        is used: a malformed token is a 401, never a crash.
        """
        if not _COMPACT_JWS.fullmatch(token):
            raise InvalidToken(INVALID_TOKEN_MESSAGE)
        header_b64, body_b64, sig_b64 = token.split(".")
        header = _json_object(header_b64)
        if header.get("alg") != "EdDSA" or header.get("kid") != self.key.key_id:
            raise InvalidToken(INVALID_TOKEN_MESSAGE)
        try:
            signature = _unb64(sig_b64)
        except ValueError:
            raise InvalidToken(INVALID_TOKEN_MESSAGE) from None
        if not self.key.verify(signature, f"{header_b64}.{body_b64}".encode("ascii")):
            raise InvalidToken(INVALID_TOKEN_MESSAGE)
        claims = _json_object(body_b64)
        try:
            role = Role(_typed(claims, "role", str))
            expires, issued = _typed(claims, "exp", int), _typed(claims, "iat", int)
            subject = claims.get("sub")
            name, key_id = _typed(claims, "name", str), _typed(claims, "key", str)
        except ValueError:
            raise InvalidToken(INVALID_TOKEN_MESSAGE) from None
        if subject is not None and not isinstance(subject, str):
            raise InvalidToken(INVALID_TOKEN_MESSAGE)
        now = self.clock().timestamp()
        if claims.get("iss") != ISSUER or issued > now + CLOCK_SKEW_SECONDS:
            raise InvalidToken(INVALID_TOKEN_MESSAGE)
        if now >= expires:
            raise InvalidToken(EXPIRED_TOKEN_MESSAGE)
        actor = Actor(role=role, department_code=subject, name=name)
        if self.key_is_live is not None and not self.key_is_live(key_id, actor):
            # The key the token was exchanged for has been revoked since: so is the token.
            raise InvalidToken(INVALID_TOKEN_MESSAGE)
        return actor


_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _json_object(segment: str) -> dict[str, Any]:
    """A base64url segment holding a JSON object, or the generic 401."""
    try:
        value = json.loads(_unb64(segment))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidToken(INVALID_TOKEN_MESSAGE) from None
    if not isinstance(value, dict):
        raise InvalidToken(INVALID_TOKEN_MESSAGE)
    return value


def _typed(claims: dict[str, Any], name: str, kind: type[_T]) -> _T:
    """A claim of exactly this JSON type (``true`` is not a number, ``1.5`` not a time)."""
    value = claims.get(name)
    if type(value) is not kind:
        raise ValueError(name)
    return value
