"""Department API keys: shown once, stored as a digest, refused alike, managed by stewards."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from catalog import keys, repository
from catalog.context import Actor
from catalog.domain import Role
from catalog.errors import Conflict, NotAuthorized, NotFound, ValidationError
from catalog.store import Catalog
from infra.errors import NotAuthenticated
from tests import factories
from tests.factories import STEWARD

# (catalogue, the data authority's code, an ordinary department's code)
Depts = tuple[Catalog, str, str]


@pytest.fixture
def depts(catalog: Catalog) -> Depts:
    """The data authority and one ordinary department."""
    with catalog.unit() as ctx:
        authority = factories.department(ctx, 1, is_data_authority=True).code
        ordinary = factories.department(ctx, 2).code
    return catalog, authority, ordinary


def test_key_is_shown_once_and_only_its_digest_is_stored(depts: Depts) -> None:
    catalog, _authority, ordinary = depts
    with catalog.unit() as ctx:
        key, plaintext = keys.create_key(
            ctx, department_code=ordinary, label="一网通办", actor=STEWARD
        )
    prefix, key_id, secret = plaintext.split("_", 2)
    assert prefix == "gs" and key_id == key.key_id and len(key_id) == 12
    assert len(secret) == 43  # token_urlsafe(32): 256 random bits
    with catalog.unit() as ctx:
        stored = repository.api_key(ctx.session, key_id)
        assert stored is not None
        assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in stored.secret_hash
        history = repository.history(ctx.session, entity="api_key", entity_id=stored.id)
    assert [h.action for h in history] == ["创建密钥"]
    assert history[0].after is not None
    assert secret not in str(history[0].after) and stored.secret_hash not in str(history[0].after)


def test_department_key_authenticates_as_that_department(depts: Depts) -> None:
    catalog, _authority, ordinary = depts
    with catalog.unit() as ctx:
        _key, plaintext = keys.create_key(ctx, department_code=ordinary, actor=STEWARD)
    with catalog.unit() as ctx:
        actor = keys.authenticate(ctx.session, plaintext)
    assert actor == Actor.department(ordinary)
    assert not actor.is_steward


@pytest.mark.parametrize("role", [Role.STEWARD, "steward"], ids=["enum", "plain-string"])
def test_steward_keys_only_for_the_data_authority(depts: Depts, role: Role | str) -> None:
    catalog, authority, ordinary = depts
    with catalog.unit() as ctx:
        key, plaintext = keys.create_key(ctx, department_code=authority, role=role, actor=STEWARD)
    with catalog.unit() as ctx:
        actor = keys.authenticate(ctx.session, plaintext)
    assert actor == Actor.steward(name=f"steward:{key.key_id}", department_code=authority)
    with catalog.unit() as ctx, pytest.raises(ValidationError, match="数据管理机构"):
        keys.create_key(ctx, department_code=ordinary, role=role, actor=STEWARD)


def test_only_stewards_manage_keys(depts: Depts) -> None:
    catalog, _authority, ordinary = depts
    department = Actor.department(ordinary)
    with catalog.unit() as ctx:
        key, _ = keys.create_key(ctx, department_code=ordinary, actor=STEWARD)
    with catalog.unit() as ctx:
        with pytest.raises(NotAuthorized):
            keys.create_key(ctx, department_code=ordinary, actor=department)
        with pytest.raises(NotAuthorized):
            keys.list_keys(ctx, actor=department)
        with pytest.raises(NotAuthorized):
            keys.revoke_key(ctx, key_id=key.key_id, actor=department)
        with pytest.raises(NotAuthorized):
            keys.rotate_key(ctx, key_id=key.key_id, actor=department)


BAD_KEYS = {
    "empty": lambda real, other: "",
    "no-prefix": lambda real, other: real.removeprefix("gs_"),
    "short-secret": lambda real, other: real[:-1],
    "unknown-id": lambda real, other: "gs_000000000000_" + real.split("_", 2)[2],
    "other-keys-secret": lambda real, other: real[:16] + other.split("_", 2)[2],
    "upper-case-id": lambda real, other: "gs_" + real[3:15].upper() + real[15:],
}


@pytest.mark.parametrize("make", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_every_bad_key_gets_the_same_refusal(depts: Depts, make: Callable[[str, str], str]) -> None:
    catalog, _authority, ordinary = depts
    with catalog.unit() as ctx:
        _k, real = keys.create_key(ctx, department_code=ordinary, actor=STEWARD)
        _k, other = keys.create_key(ctx, department_code=ordinary, actor=STEWARD)
    with catalog.unit() as ctx, pytest.raises(NotAuthenticated) as refused:
        keys.authenticate(ctx.session, make(real, other))
    assert refused.value.message == keys.INVALID_KEY_MESSAGE
    assert refused.value.status_code == 401


def test_revoked_key_is_refused_like_an_unknown_one(depts: Depts) -> None:
    catalog, _authority, ordinary = depts
    with catalog.unit() as ctx:
        key, plaintext = keys.create_key(ctx, department_code=ordinary, actor=STEWARD)
        keys.revoke_key(ctx, key_id=key.key_id, actor=STEWARD)
    with catalog.unit() as ctx, pytest.raises(NotAuthenticated) as refused:
        keys.authenticate(ctx.session, plaintext)
    assert refused.value.message == keys.INVALID_KEY_MESSAGE
    with catalog.unit() as ctx, pytest.raises(Conflict):
        keys.revoke_key(ctx, key_id=key.key_id, actor=STEWARD)
    with catalog.unit() as ctx, pytest.raises(NotFound):
        keys.revoke_key(ctx, key_id="nosuchkey000", actor=STEWARD)


def test_rotation_revokes_the_old_key_and_issues_a_new_one(depts: Depts, clock: Any) -> None:
    catalog, _authority, ordinary = depts
    with catalog.unit() as ctx:
        old, old_plain = keys.create_key(
            ctx, department_code=ordinary, label="审批系统", actor=STEWARD
        )
    clock.advance(days=1)
    with catalog.unit() as ctx:
        new, new_plain = keys.rotate_key(ctx, key_id=old.key_id, actor=STEWARD)
    assert new.key_id != old.key_id
    assert (new.label, new.role, new.department.code) == ("审批系统", Role.DEPARTMENT, ordinary)
    with catalog.unit() as ctx:
        assert keys.authenticate(ctx.session, new_plain).department_code == ordinary
        with pytest.raises(NotAuthenticated):
            keys.authenticate(ctx.session, old_plain)
        listed = keys.list_keys(ctx, actor=STEWARD, department_code=ordinary)
        assert [(k.key_id, k.revoked_at) for k in listed] == [
            (old.key_id, clock()),
            (new.key_id, None),
        ]
        stored = repository.api_key(ctx.session, old.key_id)
        assert stored is not None
        history = repository.history(ctx.session, entity="api_key", entity_id=stored.id)
    assert [h.action for h in history] == ["创建密钥", "吊销密钥"]
    assert history[-1].actor == STEWARD.name


def test_list_keys_filters_by_department(depts: Depts) -> None:
    catalog, authority, ordinary = depts
    with catalog.unit() as ctx:
        keys.create_key(ctx, department_code=authority, role=Role.STEWARD, actor=STEWARD)
        keys.create_key(ctx, department_code=ordinary, actor=STEWARD)
    with catalog.unit() as ctx:
        assert len(keys.list_keys(ctx, actor=STEWARD)) == 2
        only = keys.list_keys(ctx, actor=STEWARD, department_code=ordinary)
        assert [k.department.code for k in only] == [ordinary]
        with pytest.raises(NotFound):
            keys.list_keys(ctx, actor=STEWARD, department_code=factories.make_uscc(99))
