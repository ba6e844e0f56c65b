"""Console sessions: a signed cookie that names an API key, never holds it.

A department signs in with its API key once; the cookie then carries the key's public id, the
role and department the key spoke for, a CSRF token and two times (issued, last seen), signed
with HMAC-SHA256 under a secret derived from the platform key (one secret to guard, as for the
audit log). Nothing is stored server-side, so any number of workers can serve a session; what
makes it revocable is that every request asks the catalogue whether the key is still live
(``catalog.keys.key_is_live``, the same check access tokens use): revoking the key ends every
session signed in with it at the next click. Signing out deletes the cookie; a copy stolen
before that stays usable until the idle expiry, which is why the expiry is short (a setting).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from catalog.context import Actor
from catalog.domain import Role

COOKIE = "govshare_console"
# Before sign-in there is no session to hold the CSRF token: the sign-in form's token is
# matched against this cookie instead (double submit), so a forged sign-in is refused too.
LOGIN_COOKIE = "govshare_console_login"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class ConsoleSession:
    """Who is signed in, with which key, since when, and the token every form must return."""

    key_id: str
    role: Role
    department_code: str
    csrf: str
    issued_at: int
    seen_at: int

    @property
    def actor(self) -> Actor:
        """The actor ``catalog.keys.authenticate`` returns for this key."""
        if self.role is Role.STEWARD:
            return Actor.steward(
                name=f"steward:{self.key_id}", department_code=self.department_code
            )
        return Actor.department(self.department_code)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


class SessionCodec:
    """Encodes, signs, checks and expires console sessions."""

    def __init__(self, secret: bytes, *, idle_seconds: int, lifetime_seconds: int) -> None:
        self._secret = secret
        self.idle_seconds = idle_seconds
        self.lifetime_seconds = lifetime_seconds

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest())

    def start(self, actor: Actor, *, key_id: str, now: datetime) -> ConsoleSession:
        """A new session with a fresh CSRF token (never the pre-login one: no fixation)."""
        at = int(now.timestamp())
        return ConsoleSession(
            key_id=key_id,
            role=actor.role,
            department_code=actor.department_code or "",
            csrf=new_csrf(),
            issued_at=at,
            seen_at=at,
        )

    def encode(self, session: ConsoleSession) -> str:
        body = {
            "k": session.key_id,
            "r": str(session.role),
            "d": session.department_code,
            "c": session.csrf,
            "i": session.issued_at,
            "s": session.seen_at,
        }
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def decode(self, cookie: str | None, *, now: datetime) -> ConsoleSession | None:
        """The session a cookie holds, or None when it is missing, forged or expired."""
        if not cookie or "." not in cookie:
            return None
        payload, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            body = json.loads(_unb64(payload))
            session = ConsoleSession(
                key_id=str(body["k"]),
                role=Role(body["r"]),
                department_code=str(body["d"]),
                csrf=str(body["c"]),
                issued_at=int(body["i"]),
                seen_at=int(body["s"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        at = int(now.timestamp())
        if at - session.seen_at > self.idle_seconds:
            return None
        if at - session.issued_at > self.lifetime_seconds:
            return None
        return session

    def touch(self, session: ConsoleSession, *, now: datetime) -> ConsoleSession:
        """The same session, seen now: idle expiry counts from the last request."""
        return replace(session, seen_at=int(now.timestamp()))
