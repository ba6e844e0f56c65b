"""Short-lived access tokens (访问令牌): a department key is exchanged for one, data calls use it.

The token is a compact JWS (``header.payload.signature``, alg EdDSA) signed with the platform
key, so checking it needs no database round trip. The long-lived API key travels only to the
token endpoint; a leaked token expires in minutes (15 by default). Revoking a key stops new
tokens at once; tokens already issued live out their short life, as in OAuth.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from catalog.context import Actor
from catalog.domain import Role
from exchange_api.exceptions import InvalidToken
from exchange_api.signing import PlatformKey

ISSUER = "govshare"
INVALID_TOKEN_MESSAGE = "访问令牌无效 (invalid access token)"
EXPIRED_TOKEN_MESSAGE = "访问令牌已过期，请重新换取 (access token expired)"
CLOCK_SKEW_SECONDS = 30


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
        self, key: PlatformKey, *, ttl_seconds: int, clock: Callable[[], datetime]
    ) -> None:
        self.key = key
        self.ttl = ttl_seconds
        self.clock = clock
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
        """The actor a token speaks for; any defect is the same 401 (expiry says so)."""
        try:
            header_b64, body_b64, sig_b64 = token.split(".")
            header = json.loads(_unb64(header_b64))
            signature = _unb64(sig_b64)
        except (ValueError, UnicodeDecodeError):
            raise InvalidToken(INVALID_TOKEN_MESSAGE) from None
        if header.get("alg") != "EdDSA" or header.get("kid") != self.key.key_id:
            raise InvalidToken(INVALID_TOKEN_MESSAGE)
        if not self.key.verify(signature, f"{header_b64}.{body_b64}".encode("ascii")):
            raise InvalidToken(INVALID_TOKEN_MESSAGE)
        try:
            claims = json.loads(_unb64(body_b64))
            role = Role(claims["role"])
            expires, issued = int(claims["exp"]), int(claims["iat"])
        except (ValueError, KeyError, TypeError):
            raise InvalidToken(INVALID_TOKEN_MESSAGE) from None
        now = self.clock().timestamp()
        if claims.get("iss") != ISSUER or issued > now + CLOCK_SKEW_SECONDS:
            raise InvalidToken(INVALID_TOKEN_MESSAGE)
        if now >= expires:
            raise InvalidToken(EXPIRED_TOKEN_MESSAGE)
        return Actor(role=role, department_code=claims.get("sub"), name=str(claims.get("name")))
