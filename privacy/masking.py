"""Masking (脱敏显示) of personal fields following the conventions Chinese users expect.

Every masker works on Unicode code points and keeps the value's length, one mask character per
hidden code point, except names: by default a name shows its first character and a fixed ``**``
whatever its length (``NameMask.FIXED``), since the length of a name is itself a clue (GB/T
37964-2019 treats what narrows the candidates as identifying). The safety rule throughout: a
masked value never shows a code point that its convention hides, so a value too short for the
convention to hide anything is masked entirely rather than shown.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from enum import StrEnum
from typing import Any

from privacy.errors import InvalidPrivacyParameter

DEFAULT_MASK_CHAR = "*"
"""What replaces each hidden code point unless the caller picks another symbol."""

NUMBER_SEPARATORS: frozenset[str] = frozenset({" ", "-"})
"""Grouping characters in card, phone and ID numbers; shown as they are and not counted, so
``6222 0212 3456 7890`` keeps six digits, not five digits and a space."""


NAME_FIXED_HIDDEN = 2
"""Mask characters after a name's first character under ``NameMask.FIXED``: ``张**``."""


class NameMask(StrEnum):
    """How a masked name hides what follows its first character (姓名掩码长度)."""

    FIXED = "fixed"  # 张** for 张三, 张三丰 and 欧阳娜娜 alike: the length is not shown
    PER_CHARACTER = "per_character"  # 张*, 张**, 欧***: one mask character per hidden one


class MaskKind(StrEnum):
    """Which masking convention applies to a field (脱敏类型)."""

    NAME = "name"
    ID_NUMBER = "id_number"
    MOBILE = "mobile"
    BANK_CARD = "bank_card"
    ADDRESS = "address"
    USCC = "uscc"
    EMAIL = "email"
    GENERIC = "generic"
    NONE = "none"


def _check_mask_char(mask_char: str) -> None:
    """Refuse mask symbols that could be mistaken for data (a digit, a letter, a Han character)."""
    if not isinstance(mask_char, str) or len(mask_char) != 1:
        raise InvalidPrivacyParameter("mask_char", "must be exactly one character")
    if mask_char.isalnum() or mask_char.isspace():
        raise InvalidPrivacyParameter("mask_char", "must be a symbol, not a letter, digit or space")


def _check_count(field: str, count: int, *, minimum: int = 0) -> None:
    """Refuse keep/hide counts that are not whole numbers of at least ``minimum``."""
    if isinstance(count, bool) or not isinstance(count, int) or count < minimum:
        raise InvalidPrivacyParameter(field, f"must be an integer >= {minimum}")


def _check_value(value: object) -> None:
    """A non-string value reaching a masker is a programming error, not a client's fault."""
    if not isinstance(value, str):
        raise TypeError(f"masking expects str, got {type(value).__name__}")


def mask_ends(
    value: str,
    *,
    keep_head: int,
    keep_tail: int,
    mask_char: str = DEFAULT_MASK_CHAR,
    separators: Collection[str] = frozenset(),
) -> str:
    """Show ``keep_head`` leading and ``keep_tail`` trailing code points and hide the rest.

    Code points in ``separators`` are shown and not counted. If the value has no more counted
    code points than are kept, nothing would be hidden, so everything is masked instead.
    """
    _check_value(value)
    _check_count("keep_head", keep_head)
    _check_count("keep_tail", keep_tail)
    _check_mask_char(mask_char)
    counted = [i for i, char in enumerate(value) if char not in separators]
    if len(counted) <= keep_head + keep_tail:
        return mask_char * len(value)
    shown = set(counted[:keep_head]) | set(counted[len(counted) - keep_tail :])
    return "".join(
        char if i in shown or char in separators else mask_char for i, char in enumerate(value)
    )


def mask_name(
    value: str, *, mask_char: str = DEFAULT_MASK_CHAR, style: NameMask | str = NameMask.FIXED
) -> str:
    """姓名: keep the first character, ``张三丰`` → ``张**``; a one-character value is hidden.

    ``NameMask.FIXED`` always ends in ``NAME_FIXED_HIDDEN`` mask characters, so ``李四`` and
    ``欧阳娜娜`` read ``李**`` and ``欧**`` and a one-character name ``***``;
    ``NameMask.PER_CHARACTER`` hides each character (``李*``, ``欧***``).
    """
    try:
        name_mask = NameMask(style)
    except ValueError:
        raise InvalidPrivacyParameter("style", "must be 'fixed' or 'per_character'") from None
    masked = mask_ends(value, keep_head=1, keep_tail=0, mask_char=mask_char)
    if name_mask is NameMask.PER_CHARACTER or not value:
        return masked
    return masked[:1] + mask_char * NAME_FIXED_HIDDEN


def mask_id_number(
    value: str, *, keep_head: int = 1, keep_tail: int = 2, mask_char: str = DEFAULT_MASK_CHAR
) -> str:
    """身份证号: keep the first 1 and last 2 (some systems show 3 + 4), ``1***************12``."""
    return mask_ends(
        value,
        keep_head=keep_head,
        keep_tail=keep_tail,
        mask_char=mask_char,
        separators=NUMBER_SEPARATORS,
    )


def mask_mobile(
    value: str, *, keep_head: int = 3, keep_tail: int = 4, mask_char: str = DEFAULT_MASK_CHAR
) -> str:
    """手机号: keep 3 + 4, ``13812345678`` → ``138****5678``.

    A country prefix such as ``+86`` counts as leading characters; normalise numbers first.
    """
    return mask_ends(
        value,
        keep_head=keep_head,
        keep_tail=keep_tail,
        mask_char=mask_char,
        separators=NUMBER_SEPARATORS,
    )


def mask_bank_card(
    value: str, *, keep_head: int = 6, keep_tail: int = 4, mask_char: str = DEFAULT_MASK_CHAR
) -> str:
    """银行卡号: keep the 6-digit issuer prefix and the last 4 digits."""
    return mask_ends(
        value,
        keep_head=keep_head,
        keep_tail=keep_tail,
        mask_char=mask_char,
        separators=NUMBER_SEPARATORS,
    )


def mask_address(value: str, *, hide_tail: int = 8, mask_char: str = DEFAULT_MASK_CHAR) -> str:
    """地址: hide the last ``hide_tail`` characters (street, building, room), keep the region."""
    _check_count("hide_tail", hide_tail, minimum=1)
    keep_head = max(len(value) - hide_tail, 0) if isinstance(value, str) else 0
    return mask_ends(value, keep_head=keep_head, keep_tail=0, mask_char=mask_char)


def mask_email(value: str, *, mask_char: str = DEFAULT_MASK_CHAR) -> str:
    """电子邮箱: keep the first character of the local part and the domain, ``z*******@gov.cn``.

    A value without a non-empty local part and domain is not an address and is hidden whole.
    """
    _check_value(value)
    _check_mask_char(mask_char)
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return mask_char * len(value)
    # The e-mail convention (one mask character per hidden one) is its own; the name setting
    # governs person names only.
    local_masked = mask_name(local, mask_char=mask_char, style=NameMask.PER_CHARACTER)
    return f"{local_masked}@{domain}"


def mask_generic(
    value: str, *, keep_head: int = 1, keep_tail: int = 1, mask_char: str = DEFAULT_MASK_CHAR
) -> str:
    """Any other sensitive text: keep the ends of long values, hide short values whole.

    "Long" means at least as many code points are hidden as shown (4 for the default 1 + 1), so
    a short code like ``A7`` or ``abc`` is never mostly revealed.
    """
    _check_value(value)
    _check_count("keep_head", keep_head)
    _check_count("keep_tail", keep_tail)
    shown = keep_head + keep_tail
    if len(value) - shown < shown:
        keep_head = keep_tail = 0
    return mask_ends(value, keep_head=keep_head, keep_tail=keep_tail, mask_char=mask_char)


def mask_uscc(value: str) -> str:
    """统一社会信用代码: public for enterprises, so shown unchanged."""
    _check_value(value)
    return value


def _mask_none(value: str) -> str:
    """Fields classified as not personal are shown unchanged."""
    _check_value(value)
    return value


_MASKERS: dict[MaskKind, tuple[Callable[..., str], frozenset[str]]] = {
    MaskKind.NAME: (mask_name, frozenset({"mask_char", "style"})),
    MaskKind.ID_NUMBER: (mask_id_number, frozenset({"keep_head", "keep_tail", "mask_char"})),
    MaskKind.MOBILE: (mask_mobile, frozenset({"keep_head", "keep_tail", "mask_char"})),
    MaskKind.BANK_CARD: (mask_bank_card, frozenset({"keep_head", "keep_tail", "mask_char"})),
    MaskKind.ADDRESS: (mask_address, frozenset({"hide_tail", "mask_char"})),
    MaskKind.USCC: (mask_uscc, frozenset()),
    MaskKind.EMAIL: (mask_email, frozenset({"mask_char"})),
    MaskKind.GENERIC: (mask_generic, frozenset({"keep_head", "keep_tail", "mask_char"})),
    MaskKind.NONE: (_mask_none, frozenset()),
}


def mask(value: str | None, kind: MaskKind | str, **opts: Any) -> str | None:
    """Mask ``value`` by the convention of ``kind``; ``None`` (a missing value) passes through.

    ``opts`` are the chosen masker's keyword options (``keep_head``, ``keep_tail``,
    ``hide_tail``, ``mask_char``, a name's ``style``); an option the convention does not take
    is refused rather than silently ignored, so a misconfigured field cannot show more than
    intended.
    """
    try:
        mask_kind = MaskKind(kind)
    except ValueError:
        raise InvalidPrivacyParameter("kind", "unknown mask kind") from None
    masker, allowed = _MASKERS[mask_kind]
    unknown = sorted(opts.keys() - allowed)
    if unknown:
        raise InvalidPrivacyParameter(unknown[0], f"not an option of mask kind {mask_kind.value}")
    if value is None:
        return None
    return masker(value, **opts)
