"""A limit on failed sign-ins (登录失败处理): the console's sign-in and ``POST /token``.

Failures are counted in the catalogue database with the rate limiter's windows
(``quotas.take_window``), so the limit holds for the deployment, not for each API worker's
share of the attempts, and survives a restart. Two counters, each in fixed windows of
``signin_window_minutes``: one per client address (a keyed hash, never the address itself)
and one per key id the attempt claims (the public half of a key, ``gs_<key_id>_…``), so
neither one client trying many keys nor many clients trying one key get far. While either
counter is at its limit, sign-ins from that client or for that key are refused before the
key is even looked at, and the refusal says when to try again.

A failure is written in a transaction of its own: the request's unit of work rolls back with
the refusal, the count must not. Keys given to data calls (``X-API-Key``) are not sign-ins
and are not counted here: a wrong one is a 401 like any other.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from catalog.keys import presented_key_id
from catalog.store import Catalog
from exchange_api import quotas
from exchange_api.exceptions import TooManySignIns

CLIENT_SCOPE = "signin-client"
KEY_SCOPE = "signin-key"


@dataclass(frozen=True)
class Attempt:
    """Who is trying: the counters an attempt is checked against and charged to."""

    counters: tuple[tuple[str, str, int], ...]  # (scope, subject, limit)


class SignInGuard:
    def __init__(
        self,
        catalog: Catalog,
        *,
        clock: Callable[[], datetime],
        secret: bytes,
        per_client: int,
        per_key: int,
        window_minutes: int,
    ) -> None:
        self.catalog = catalog
        self.clock = clock
        self._secret = secret
        self.per_client = per_client
        self.per_key = per_key
        self.window_seconds = window_minutes * 60

    def attempt(self, *, client: str | None, presented: str) -> Attempt:
        digest = hmac.new(self._secret, (client or "unknown").encode(), hashlib.sha256)
        counters = [(CLIENT_SCOPE, digest.hexdigest(), self.per_client)]
        key_id = presented_key_id(presented)
        if key_id is not None:
            counters.append((KEY_SCOPE, key_id, self.per_key))
        return Attempt(tuple(counters))

    def _window(self) -> tuple[int, int]:
        """The current window's number and the seconds until the next one."""
        seconds = self.clock().timestamp()
        window = int(seconds // self.window_seconds)
        return window, max(1, math.ceil((window + 1) * self.window_seconds - seconds))

    def check(self, attempt: Attempt) -> None:
        """Refuse at once if the client or the key id has used up its failures."""
        window, retry = self._window()
        with self.catalog.unit() as ctx:
            blocked = any(
                quotas.window_used(ctx.session, scope=scope, subject=subject, window=window)
                >= limit
                for scope, subject, limit in attempt.counters
            )
        if blocked:
            minutes = math.ceil(retry / 60)
            raise TooManySignIns(
                f"登录失败次数过多，请 {minutes} 分钟后再试 "
                "(too many failed sign-ins; try again later)",
                retry_after=retry,
            )

    def failed(self, attempt: Attempt) -> None:
        """Count one failure against each counter, committed whatever the request does next."""
        window, _retry = self._window()
        with self.catalog.unit() as ctx:
            for scope, subject, _limit in attempt.counters:
                quotas.take_window(
                    ctx.session, scope=scope, subject=subject, window=window, amount=1,
                    limit=quotas.UNLIMITED, now=self.clock(),
                )  # fmt: skip
