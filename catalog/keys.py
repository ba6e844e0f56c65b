"""Department credentials (访问密钥): API keys that the exchange API authenticates.

A key reads ``gs_<key_id>_<secret>``. The key id is public and finds the row; the secret is
shown once, when the key is made, and only its SHA-256 digest is stored. A slow password hash
(bcrypt, scrypt) protects *guessable* secrets against offline guessing; these secrets are 256
random bits from ``secrets.token_urlsafe(32)``, so nobody can guess one from its digest and a
fast hash is enough. Digests are compared with ``hmac.compare_digest`` so timing tells nothing.

Only stewards manage keys (``auth.manage_keys``). A steward key must belong to the data
authority (数据管理机构); every other department gets department keys and acts for itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

from sqlalchemy.orm import Session

from catalog import auth, repository
from catalog.context import Actor, CatalogContext
from catalog.domain import Role
from catalog.errors import Conflict, NotFound, ValidationError
from catalog.history import record
from catalog.models import ApiKey
from infra.errors import NotAuthenticated

PREFIX = "gs"
KEY_ID_LENGTH = 12
# Lower-case letters and digits only: the key id must never contain the "_" separator,
# while the url-safe secret may (the presented key is split at the first two "_" only).
_KEY_ID_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_BYTES = 32
_PRESENTED = re.compile(rf"{PREFIX}_([a-z0-9]{{{KEY_ID_LENGTH}}})_([A-Za-z0-9_\-]{{43}})")
LABEL_MAX = 100

# One message for every refusal, so a caller cannot tell an unknown key from a revoked one.
INVALID_KEY_MESSAGE = "访问凭据无效或已失效 (invalid or revoked credentials)"

# Compared against when the key id is unknown, so both paths do the same work.
_DUMMY_DIGEST = hashlib.sha256(b"govshare: no such key").hexdigest()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _new_key_id(session: Session) -> str:
    """A fresh random key id; 36**12 ids make a clash unlikely, but one is still refused."""
    while True:
        key_id = "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))
        if repository.api_key(session, key_id) is None:
            return key_id


def _summary(key: ApiKey) -> dict[str, object]:
    """What history keeps about a key: never the secret, never its digest."""
    return {
        "key_id": key.key_id,
        "department": key.department.code,
        "role": str(key.role),
        "label": key.label,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def create_key(
    ctx: CatalogContext,
    *,
    department_code: str,
    role: Role | str = Role.DEPARTMENT,
    label: str = "",
    actor: Actor,
) -> tuple[ApiKey, str]:
    """Issue a key for a department; the plaintext is returned here and never again."""
    auth.manage_keys(actor)
    try:
        role = Role(role)  # a plain "steward" string must meet the same check as the enum
    except ValueError:
        raise ValidationError(f"未知的角色 (unknown role) '{role}'") from None
    department = repository.department(ctx.session, department_code)
    if role is Role.STEWARD and not department.is_data_authority:
        raise ValidationError(
            "只有数据管理机构的密钥可以具有审核员角色 "
            "(the steward role is only for the data authority's keys)"
        )
    label = label.strip()
    if len(label) > LABEL_MAX:
        raise ValidationError(f"密钥说明不能超过 {LABEL_MAX} 个字符 (label too long)")
    key_id = _new_key_id(ctx.session)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    key = ApiKey(
        key_id=key_id,
        secret_hash=_digest(secret),
        department=department,
        role=role,
        label=label,
        created_at=ctx.now(),
        revoked_at=None,
    )
    ctx.session.add(key)
    ctx.session.flush()
    record(
        ctx,
        entity="api_key",
        entity_id=key.id,
        action="创建密钥",
        actor=actor,
        before=None,
        after=_summary(key),
    )
    return key, f"{PREFIX}_{key_id}_{secret}"


def _live_key(ctx: CatalogContext, key_id: str) -> ApiKey:
    key = repository.api_key(ctx.session, key_id)
    if key is None:
        raise NotFound(f"访问密钥不存在 (no API key) {key_id}")
    if key.revoked_at is not None:
        raise Conflict(f"访问密钥 {key_id} 已吊销 (the key is already revoked)")
    return key


def revoke_key(ctx: CatalogContext, *, key_id: str, actor: Actor) -> ApiKey:
    """Revoke a key at once; requests presenting it are refused from the next one on."""
    auth.manage_keys(actor)
    key = _live_key(ctx, key_id)
    before = _summary(key)
    key.revoked_at = ctx.now()
    record(
        ctx,
        entity="api_key",
        entity_id=key.id,
        action="吊销密钥",
        actor=actor,
        before=before,
        after=_summary(key),
    )
    return key


def rotate_key(ctx: CatalogContext, *, key_id: str, actor: Actor) -> tuple[ApiKey, str]:
    """Replace a live key by a new one for the same department, role and label."""
    auth.manage_keys(actor)
    old = _live_key(ctx, key_id)
    revoke_key(ctx, key_id=key_id, actor=actor)
    return create_key(
        ctx,
        department_code=old.department.code,
        role=old.role,
        label=old.label,
        actor=actor,
    )


def list_keys(
    ctx: CatalogContext, *, actor: Actor, department_code: str | None = None
) -> list[ApiKey]:
    """Every key (revoked ones too, for the record), optionally of one department."""
    auth.manage_keys(actor)
    department_id = None
    if department_code is not None:
        department_id = repository.department(ctx.session, department_code).id
    return list(repository.api_keys(ctx.session, department_id=department_id))


def presented_key_id(presented: str) -> str | None:
    """The key id a presented key claims (public, like a user name), if it is well formed."""
    match = _PRESENTED.fullmatch(presented.strip())
    return match.group(1) if match else None


def authenticate(session: Session, presented: str) -> Actor:
    """The actor a presented key speaks for; any failure is one generic 401.

    Malformed, unknown, wrong-secret and revoked keys are refused with the same message so
    that probing reveals nothing about which key ids exist.
    """
    match = _PRESENTED.fullmatch(presented.strip())
    if match is None:
        raise NotAuthenticated(INVALID_KEY_MESSAGE)
    key_id, secret = match.groups()
    key = repository.api_key(session, key_id)
    expected = key.secret_hash if key is not None else _DUMMY_DIGEST
    matches = hmac.compare_digest(_digest(secret), expected)
    if key is None or not matches or key.revoked_at is not None:
        raise NotAuthenticated(INVALID_KEY_MESSAGE)
    department = key.department
    if key.role is Role.STEWARD:
        # Re-checked on use: a department that stops being the authority loses steward keys.
        if not department.is_data_authority:
            raise NotAuthenticated(INVALID_KEY_MESSAGE)
        return Actor.steward(name=f"steward:{key.key_id}", department_code=department.code)
    return Actor.department(department.code)


def key_is_live(session: Session, *, key_id: str, actor: Actor) -> bool:
    """Whether a token exchanged for ``key_id`` may still speak for ``actor``.

    Asked on every call made with an access token, so revoking a key (or the department
    losing the data-authority role) ends its tokens at once instead of at their expiry.
    One primary-key-sized lookup; nothing is cached on purpose.
    """
    key = repository.api_key(session, key_id)
    if key is None or key.revoked_at is not None:
        return False
    if key.department.code != actor.department_code or key.role is not actor.role:
        return False
    return key.role is not Role.STEWARD or key.department.is_data_authority
