"""Masking conventions: examples users expect, and the rule that nothing hidden ever shows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privacy import InvalidPrivacyParameter, MaskKind, mask, mask_ends
from privacy.masking import NUMBER_SEPARATORS, NameMask

# Text without the mask character, mixing Han characters with anything else, so a "*" in the
# output can only come from masking.
HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ANY_CHAR = st.characters(blacklist_characters="*")
TEXT = st.text(alphabet=st.one_of(HAN, ANY_CHAR), max_size=40)
NUMBERISH = st.text(alphabet=st.sampled_from("0123456789X -"), max_size=30)

LENGTH_KEEPING_KINDS = [
    MaskKind.ID_NUMBER,
    MaskKind.MOBILE,
    MaskKind.BANK_CARD,
    MaskKind.ADDRESS,
    MaskKind.EMAIL,
    MaskKind.GENERIC,
]


@pytest.mark.parametrize(
    ("value", "kind", "opts", "expected"),
    [
        ("张三丰", MaskKind.NAME, {}, "张**"),
        ("李四", MaskKind.NAME, {}, "李**"),
        ("欧阳娜娜", MaskKind.NAME, {}, "欧**"),
        ("阿依古丽·买买提", MaskKind.NAME, {}, "阿**"),
        ("张", MaskKind.NAME, {}, "***"),
        ("", MaskKind.NAME, {}, ""),
        ("李四", MaskKind.NAME, {"style": "per_character"}, "李*"),
        ("欧阳娜娜", MaskKind.NAME, {"style": NameMask.PER_CHARACTER}, "欧***"),
        ("阿依古丽·买买提", MaskKind.NAME, {"style": "per_character"}, "阿*******"),
        ("张", MaskKind.NAME, {"style": "per_character"}, "*"),
        ("110101199003071234", MaskKind.ID_NUMBER, {}, "1***************34"),
        ("11010119900307123X", MaskKind.ID_NUMBER, {}, "1***************3X"),
        (
            "110101199003071234",
            MaskKind.ID_NUMBER,
            {"keep_head": 3, "keep_tail": 4},
            "110***********1234",
        ),
        ("1234", MaskKind.ID_NUMBER, {}, "1*34"),
        ("123", MaskKind.ID_NUMBER, {}, "***"),
        ("13812345678", MaskKind.MOBILE, {}, "138****5678"),
        ("138 1234 5678", MaskKind.MOBILE, {}, "138 **** 5678"),
        ("1381234", MaskKind.MOBILE, {}, "*******"),
        ("6222021234567890", MaskKind.BANK_CARD, {}, "622202******7890"),
        ("6222 0212 3456 7890", MaskKind.BANK_CARD, {}, "6222 02** **** 7890"),
        ("浙江省杭州市西湖区文三路100号", MaskKind.ADDRESS, {}, "浙江省杭州市西湖********"),
        ("西湖区文三路", MaskKind.ADDRESS, {}, "******"),
        ("西湖区文三路", MaskKind.ADDRESS, {"hide_tail": 3}, "西湖区***"),
        ("91330106MA27Y5XX0B", MaskKind.USCC, {}, "91330106MA27Y5XX0B"),
        ("zhangsan@example.com", MaskKind.EMAIL, {}, "z*******@example.com"),
        ("a@gov.cn", MaskKind.EMAIL, {}, "*@gov.cn"),
        ("not-an-email", MaskKind.EMAIL, {}, "************"),
        ("@gov.cn", MaskKind.EMAIL, {}, "*******"),
        ("机密资料内容", MaskKind.GENERIC, {}, "机****容"),
        ("abcd", MaskKind.GENERIC, {}, "a**d"),
        ("abc", MaskKind.GENERIC, {}, "***"),
        ("公开", MaskKind.NONE, {}, "公开"),
        ("张三丰", "name", {"mask_char": "●"}, "张●●"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_mask_follows_chinese_display_conventions(
    value: str, kind: MaskKind, opts: dict[str, object], expected: str
) -> None:
    assert mask(value, kind, **opts) == expected


@pytest.mark.parametrize("kind", list(MaskKind), ids=str)
def test_mask_passes_none_through(kind: MaskKind) -> None:
    assert mask(None, kind) is None


def test_mask_refuses_an_option_the_convention_does_not_take() -> None:
    with pytest.raises(InvalidPrivacyParameter) as caught:
        mask("张三丰", MaskKind.NAME, keep_tail=1)
    assert caught.value.field == "keep_tail"


def test_mask_refuses_an_unknown_name_style() -> None:
    with pytest.raises(InvalidPrivacyParameter) as caught:
        mask("张三丰", MaskKind.NAME, style="short")
    assert caught.value.field == "style"


def test_mask_refuses_unknown_kind_without_quoting_the_value() -> None:
    with pytest.raises(InvalidPrivacyParameter) as caught:
        mask("13812345678", "phone")
    assert "13812345678" not in str(caught.value)


@pytest.mark.parametrize("mask_char", ["", "**", "1", "张", " "], ids=repr)
def test_mask_refuses_mask_chars_that_could_pass_for_data(mask_char: str) -> None:
    with pytest.raises(InvalidPrivacyParameter):
        mask("13812345678", MaskKind.MOBILE, mask_char=mask_char)


@pytest.mark.parametrize("keep_head", [-1, 1.5, True], ids=repr)
def test_mask_refuses_bad_keep_counts(keep_head: object) -> None:
    with pytest.raises(InvalidPrivacyParameter):
        mask("110101199003071234", MaskKind.ID_NUMBER, keep_head=keep_head)


def test_mask_rejects_non_string_values_as_a_programming_error() -> None:
    with pytest.raises(TypeError):
        mask(13812345678, MaskKind.MOBILE)  # type: ignore[arg-type]


@given(
    value=st.one_of(TEXT, NUMBERISH),
    keep_head=st.integers(0, 6),
    keep_tail=st.integers(0, 6),
    use_separators=st.booleans(),
)
def test_mask_ends_never_shows_a_hidden_code_point(
    value: str, keep_head: int, keep_tail: int, use_separators: bool
) -> None:
    separators = NUMBER_SEPARATORS if use_separators else frozenset()
    masked = mask_ends(value, keep_head=keep_head, keep_tail=keep_tail, separators=separators)

    assert len(masked) == len(value)
    counted = [i for i, char in enumerate(value) if char not in separators]
    visible = {i for i, char in enumerate(masked) if char != "*"}
    for i in visible:
        assert masked[i] == value[i]
    for rank, i in enumerate(counted):
        if i in visible:
            assert rank < keep_head or rank >= len(counted) - keep_tail
    if counted:
        # Something is always hidden: a value the convention cannot hide part of is hidden whole.
        assert not set(counted) <= visible


@given(value=TEXT, kind=st.sampled_from([*LENGTH_KEEPING_KINDS, MaskKind.NAME]))
def test_mask_keeps_length_in_code_points_and_only_adds_mask_chars(
    value: str, kind: MaskKind
) -> None:
    opts = {"style": NameMask.PER_CHARACTER} if kind is MaskKind.NAME else {}
    masked = mask(value, kind, **opts)

    assert masked is not None
    assert len(masked) == len(value)
    assert all(m in ("*", v) for m, v in zip(masked, value, strict=True))
    if value:
        assert "*" in masked


@given(value=TEXT)
def test_mask_name_shows_at_most_the_first_code_point(value: str) -> None:
    masked = mask(value, MaskKind.NAME, style=NameMask.PER_CHARACTER)

    assert masked is not None
    assert masked[1:] == "*" * (len(value) - 1)
    if len(value) >= 2:
        assert masked[0] == value[0]
    elif value:
        assert masked == "*"


@given(value=TEXT.filter(bool))
def test_fixed_name_mask_hides_the_length(value: str) -> None:
    masked = mask(value, MaskKind.NAME)

    assert masked is not None
    assert len(masked) == 3 and masked[1:] == "**"  # whatever the name's length
    assert masked[0] == (value[0] if len(value) >= 2 else "*")


@given(value=TEXT, hide_tail=st.integers(1, 12))
def test_mask_address_hides_at_least_the_last_characters(value: str, hide_tail: int) -> None:
    masked = mask(value, MaskKind.ADDRESS, hide_tail=hide_tail)

    assert masked is not None
    hidden = min(hide_tail, len(value))
    assert masked[len(value) - hidden :] == "*" * hidden


@given(local=TEXT.filter(lambda s: "@" not in s), domain=TEXT.filter(lambda s: "@" not in s))
def test_mask_email_hides_the_local_part_beyond_its_first_character(
    local: str, domain: str
) -> None:
    masked = mask(f"{local}@{domain}", MaskKind.EMAIL)

    assert masked is not None
    shown_local = masked[: len(local)]
    assert shown_local[1:] == "*" * max(len(local) - 1, 0)
    if local and domain:
        assert masked.endswith("@" + domain)
    else:
        assert masked == "*" * (len(local) + 1 + len(domain))
