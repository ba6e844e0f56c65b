"""Pseudonyms: stable inside a department, unlinkable across departments, pinned across releases."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privacy import InvalidPrivacyParameter, make_pseudonymiser, pseudonymise

SECRET = b"0123456789abcdef0123456789abcdef"
ID_NUMBER = "110101199003071234"

DEPARTMENTS = st.text(min_size=1, max_size=20).filter(str.strip)
SECRETS = st.binary(min_size=16, max_size=64)


def test_pseudonym_is_pinned_so_stored_links_survive_upgrades() -> None:
    # Changing the derivation would silently break every department's stored linkage.
    assert pseudonymise(ID_NUMBER, secret=SECRET, department="市公安局") == (
        "05c20846ba9f8daa7c3c77b91e3cfabd"
    )
    assert (
        pseudonymise(
            ID_NUMBER, secret=SECRET, department="市人社局", purpose="就业补贴核验", length=16
        )
        == "2e1dbcc1cecdd1fc"
    )


@pytest.mark.parametrize("length", [16, 32, 64])
def test_pseudonym_has_the_requested_number_of_hex_digits(length: int) -> None:
    result = pseudonymise(ID_NUMBER, secret=SECRET, department="市民政局", length=length)

    assert len(result) == length
    assert set(result) <= set("0123456789abcdef")


@pytest.mark.parametrize("length", [0, 15, 65, True], ids=repr)
def test_pseudonym_refuses_lengths_that_collide_or_exceed_the_tag(length: int) -> None:
    with pytest.raises(InvalidPrivacyParameter) as caught:
        pseudonymise(ID_NUMBER, secret=SECRET, department="市民政局", length=length)
    assert caught.value.field == "length"


def test_pseudonym_refuses_a_short_secret_without_quoting_it() -> None:
    secret = b"short-secret-15"
    with pytest.raises(InvalidPrivacyParameter) as caught:
        pseudonymise(ID_NUMBER, secret=secret, department="市民政局")
    assert caught.value.field == "secret"
    assert secret.decode() not in str(caught.value)
    assert ID_NUMBER not in str(caught.value)


@pytest.mark.parametrize("department", ["", "   "], ids=["empty", "blank"])
def test_pseudonym_refuses_a_blank_department(department: str) -> None:
    with pytest.raises(InvalidPrivacyParameter):
        pseudonymise(ID_NUMBER, secret=SECRET, department=department)


def test_pseudonym_treats_composed_and_decomposed_text_alike() -> None:
    composed = unicodedata.normalize("NFC", "Zoë 张")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed

    assert pseudonymise(composed, secret=SECRET, department="d") == pseudonymise(
        decomposed, secret=SECRET, department="d"
    )


@given(value=st.text(), secret=SECRETS, department=DEPARTMENTS)
def test_pseudonym_is_stable_for_one_department(value: str, secret: bytes, department: str) -> None:
    batch = make_pseudonymiser(secret=secret, department=department)

    first = pseudonymise(value, secret=secret, department=department)
    assert pseudonymise(value, secret=secret, department=department) == first
    assert batch(value) == first


@given(
    value=st.text(),
    secret=SECRETS,
    departments=st.lists(DEPARTMENTS, min_size=2, max_size=2, unique=True),
)
def test_pseudonym_differs_across_departments(
    value: str, secret: bytes, departments: list[str]
) -> None:
    first, second = departments

    assert pseudonymise(value, secret=secret, department=first) != pseudonymise(
        value, secret=secret, department=second
    )


@given(
    value=st.text(),
    department=DEPARTMENTS,
    purposes=st.lists(
        st.one_of(st.none(), st.text(max_size=10)), min_size=2, max_size=2, unique=True
    ),
)
def test_pseudonym_differs_across_purposes(
    value: str, department: str, purposes: list[str | None]
) -> None:
    first, second = purposes

    assert pseudonymise(value, secret=SECRET, department=department, purpose=first) != (
        pseudonymise(value, secret=SECRET, department=department, purpose=second)
    )


@given(
    values=st.lists(
        st.text(), min_size=2, max_size=2, unique_by=lambda v: unicodedata.normalize("NFC", v)
    )
)
def test_pseudonym_differs_across_people_in_one_department(values: list[str]) -> None:
    first, second = values

    assert pseudonymise(first, secret=SECRET, department="d") != pseudonymise(
        second, secret=SECRET, department="d"
    )


@given(secrets=st.lists(SECRETS, min_size=2, max_size=2, unique=True))
def test_pseudonym_depends_on_the_platform_secret(secrets: list[bytes]) -> None:
    first, second = secrets

    assert pseudonymise(ID_NUMBER, secret=first, department="d") != pseudonymise(
        ID_NUMBER, secret=second, department="d"
    )
