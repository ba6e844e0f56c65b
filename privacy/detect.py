"""Recognising personal identifiers by their values (识别), whatever an item is called.

A catalogue's sensitivity label is the provider's own statement; an item named 编号 that holds
ID numbers is personal all the same. These checks look at a sample of values (the first rows
of a table) and say which identifier they are, so serving can mask what was labelled away.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from stdnum.cn import ric, uscc

from privacy.masking import MaskKind

MOBILE = re.compile(r"1[3-9]\d{9}")
# 统一社会信用代码 whose 机构类别 is 个体工商户 (92): the holder is a person.
INDIVIDUAL_USCC_PREFIX = "92"
DEFAULT_SHARE = 0.5


def value_kind(value: object) -> MaskKind | None:
    """How a value must be masked when it is a personal identifier, or None.

    An individual business's 统一社会信用代码 names its holder; the USCC convention shows
    enterprise codes unchanged, so these get the generic mask.
    """
    if not isinstance(value, str):
        return None
    text = value.strip().upper()
    if len(text) == 18 and ric.is_valid(text):
        return MaskKind.ID_NUMBER
    if len(text) == 18 and text.startswith(INDIVIDUAL_USCC_PREFIX) and uscc.is_valid(text):
        return MaskKind.GENERIC
    if MOBILE.fullmatch(text):
        return MaskKind.MOBILE
    return None


def identifier_kind_of(
    values: Iterable[object], *, share: float = DEFAULT_SHARE
) -> MaskKind | None:
    """The identifier most sampled values are (at least ``share`` of the non-empty ones)."""
    seen = 0
    counts: dict[MaskKind, int] = {}
    for value in values:
        if value is None or value == "":
            continue
        seen += 1
        kind = value_kind(value)
        if kind is not None:
            counts[kind] = counts.get(kind, 0) + 1
    if not seen or not counts:
        return None
    kind, hits = max(counts.items(), key=lambda pair: pair[1])
    return kind if hits / seen >= share else None
