"""The disclosure rules (masking, birth-date generalisation) applied to whole Arrow columns.

Serving a million-row table through :func:`privacy.masking.mask` costs about 25 µs per value,
which dominates when a column's values are mostly distinct (身份证号, birth dates). The forms
here give the same result for every value, nulls included, with ``pyarrow.compute`` kernels
working on code points (``utf8_length``, ``utf8_slice_codeunits``) and date fields. The rare
values the kernels cannot express simply (a number written with grouping separators) go
through the scalar rule, so there is still one definition of each convention, and the tests
pin the two forms equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from privacy.disclosure import (
    BirthDateShown,
    DisclosureRules,
    FieldPlan,
    Treatment,
    generalised_birth_date,
    mask_options,
    plain_value,
    served_value,
)
from privacy.masking import (
    DEFAULT_MASK_CHAR,
    NAME_FIXED_HIDDEN,
    NUMBER_SEPARATORS,
    MaskKind,
    NameMask,
    mask,
)

_SEPARATED_KINDS = frozenset({MaskKind.ID_NUMBER, MaskKind.MOBILE, MaskKind.BANK_CARD})
_SEPARATOR_PATTERN = "[" + "".join(sorted(NUMBER_SEPARATORS)).replace("-", r"\-") + "]"
_EMAIL = r"(?s)\A(?P<local>.*)@(?P<domain>[^@]*)\z"  # local part up to the last @, as rpartition
_DEFAULT_KEEP: dict[MaskKind, tuple[int, int]] = {
    MaskKind.ID_NUMBER: (1, 2),
    MaskKind.MOBILE: (3, 4),
    MaskKind.BANK_CARD: (6, 4),
    MaskKind.GENERIC: (1, 1),
}

ArrowStrings: TypeAlias = pa.Array | pa.ChunkedArray


def rewritten(plan: FieldPlan | None) -> bool:
    """Columns served as text other than their stored values (masked or generalised)."""
    return plan is not None and plan.treatment in (Treatment.MASK, Treatment.GENERALISE)


def served_batch(
    batch: pa.RecordBatch, plans: Mapping[str, FieldPlan], rules: DisclosureRules, today: date
) -> pa.RecordBatch:
    """A batch as the caller may see it: masked and generalised columns become text.

    Withheld columns must be left out of ``batch`` by the caller; a value that cannot be
    generalised becomes null rather than being shown. Extracts and Delta Sharing's masked
    files both go through here.
    """
    columns = []
    fields = []
    for name in batch.schema.names:
        column = batch.column(name)
        plan = plans.get(name)
        if plan is not None and rewritten(plan):
            # Masked text and generalised dates go through whole-column kernels (same rules);
            # anything else through the rule once per distinct value, the masked dictionary
            # then expanded back to the rows.
            shown = served_array(plan, column, rules, on=today)
            if shown is None:
                encoded = pc.dictionary_encode(column)
                masked = pa.array(
                    [
                        served_value(plan, None if v is None else plain_value(v), rules, on=today)
                        for v in encoded.dictionary.to_pylist()
                    ],
                    pa.string(),
                )
                shown = pc.take(masked, encoded.indices)
            column = shown
            fields.append(pa.field(name, pa.string()))
        else:
            fields.append(batch.schema.field(name))
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields))


def served_schema(source: pa.Schema, plans: Mapping[str, FieldPlan]) -> pa.Schema:
    """The schema :func:`served_batch` gives ``source``: rewritten columns become text."""
    return pa.schema(
        [pa.field(n, pa.string()) if rewritten(plans.get(n)) else source.field(n)
         for n in source.names]
    )  # fmt: skip


def served_array(
    plan: FieldPlan, values: ArrowStrings, rules: DisclosureRules, *, on: date
) -> ArrowStrings | None:
    """``values`` as ``plan`` shows them, as :func:`privacy.disclosure.served_value` would show
    each one; None when the column has no columnar form (the caller applies the scalar rule).

    Masked text columns and generalised ``date`` columns have one; a raw column needs none.
    """
    kind = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
    if plan.treatment is Treatment.MASK and (
        pa.types.is_string(kind) or pa.types.is_large_string(kind)
    ):
        assert plan.mask_kind is not None
        return mask_array(values, plan.mask_kind, **mask_options(plan, rules))
    if plan.treatment is Treatment.GENERALISE and pa.types.is_date(kind):
        return generalise_birth_dates(values, rules, on=on)
    return None


def generalise_birth_dates(
    values: ArrowStrings, rules: DisclosureRules, *, on: date
) -> ArrowStrings | None:
    """A ``date`` column generalised as :func:`privacy.disclosure.generalised_birth_date` does
    (a year, or an age band on ``on``; a birth date after ``on`` becomes null); None when a
    value lies outside the years Python's ``date`` can hold, which the scalar rule refuses."""
    generalised_birth_date(on, rules, on=on)  # the scalar rule validates the rules
    if pa.types.is_dictionary(values.type):
        if isinstance(values, pa.ChunkedArray):
            values = values.cast(values.type.value_type)
        else:
            shown = generalise_birth_dates(values.dictionary, rules, on=on)
            return None if shown is None else pc.take(shown, values.indices)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.date32())
    year = pc.year(values)
    low, high = pc.min_max(year).values()
    if low.is_valid and (low.as_py() < date.min.year or high.as_py() > date.max.year):
        return None
    if rules.birth_date is BirthDateShown.YEAR:
        return pc.utf8_lpad(year.cast(pa.string()), 4, "0")
    born = pc.add(pc.multiply(pc.month(values), 100), pc.day(values))
    before_birthday = pc.less(on.month * 100 + on.day, born)
    age = pc.subtract(pc.subtract(on.year, year), before_birthday.cast(pa.int64()))
    width = rules.age_band_width
    bottom = pc.multiply(pc.divide(age, width), width)
    top = pc.add(bottom, width - 1)
    cap = rules.age_band_cap
    if cap is not None:
        top = pc.min_element_wise(top, cap - 1)
    band = pc.binary_join_element_wise(bottom.cast(pa.string()), top.cast(pa.string()), "-")
    if cap is not None:
        band = pc.if_else(pc.greater_equal(age, cap), pa.scalar(f"{cap}+"), band)
    future = pc.greater(values, pa.scalar(on, pa.date32()))
    return pc.if_else(pc.fill_null(future, False), pa.scalar(None, pa.string()), band)


def mask_array(values: ArrowStrings, kind: MaskKind | str, **opts: Any) -> ArrowStrings:
    """``[mask(v, kind, **opts) for v in values]`` as an Arrow ``string`` column, vectorised.

    ``values`` must hold text (``string``, ``large_string``, or a dictionary of either), as
    the scalar rule expects ``str``; options are checked exactly as :func:`mask` checks them.
    """
    mask("", kind, **opts)  # the scalar rule validates kind and options; "" costs nothing
    mask_kind = MaskKind(kind)
    if isinstance(values, pa.ChunkedArray):
        chunks = [_mask_chunk(c, mask_kind, opts) for c in values.chunks]
        return pa.chunked_array(chunks, type=pa.string())
    return _mask_chunk(values, mask_kind, opts)


def _mask_chunk(values: pa.Array, kind: MaskKind, opts: dict[str, Any]) -> pa.Array:
    if pa.types.is_dictionary(values.type):
        # Mask each distinct value once, then expand: cheap for repetitive columns.
        masked = _mask_chunk(values.dictionary, kind, opts)
        return pc.take(masked, values.indices)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise TypeError(f"masking expects text, got an Arrow column of {values.type}")
    values = values.cast(pa.string())
    mask_char = opts.get("mask_char", DEFAULT_MASK_CHAR)
    if kind in (MaskKind.NONE, MaskKind.USCC):
        return values
    if kind is MaskKind.NAME:
        style = NameMask(opts.get("style", NameMask.FIXED))
        if style is NameMask.PER_CHARACTER:
            return _ends(values, 1, 0, mask_char)
        return _name_fixed(values, mask_char)
    if kind is MaskKind.ADDRESS:
        return _address(values, opts.get("hide_tail", 8), mask_char)
    if kind is MaskKind.EMAIL:
        return _email(values, mask_char)
    head_default, tail_default = _DEFAULT_KEEP[kind]
    head = opts.get("keep_head", head_default)
    tail = opts.get("keep_tail", tail_default)
    if kind is MaskKind.GENERIC:
        shown = head + tail
        short = pc.less(pc.utf8_length(values), 2 * shown)
        return pc.if_else(short, _whole(values, mask_char), _ends(values, head, tail, mask_char))
    masked = _ends(values, head, tail, mask_char)
    return _separated_by_rule(values, masked, kind, opts)


def _whole(values: pa.Array, mask_char: str) -> pa.Array:
    """Every code point hidden."""
    return pc.binary_repeat(pa.scalar(mask_char), pc.utf8_length(values))


def _ends(values: pa.Array, head: int, tail: int, mask_char: str) -> pa.Array:
    """:func:`privacy.masking.mask_ends` without separators."""
    length = pc.utf8_length(values)
    hidden = pc.subtract(length, head + tail)
    shown_head = pc.utf8_slice_codeunits(values, 0, head)
    shown_tail = pc.utf8_slice_codeunits(values, -tail) if tail else pa.scalar("")
    middle = pc.binary_repeat(pa.scalar(mask_char), pc.max_element_wise(hidden, 0))
    joined = pc.binary_join_element_wise(shown_head, middle, shown_tail, "")
    return pc.if_else(pc.less_equal(hidden, 0), _whole(values, mask_char), joined)


def _name_fixed(values: pa.Array, mask_char: str) -> pa.Array:
    """``张**`` whatever the length; one character is hidden too (``***``); "" stays ""."""
    length = pc.utf8_length(values)
    first = pc.if_else(
        pc.greater_equal(length, 2), pc.utf8_slice_codeunits(values, 0, 1), pa.scalar(mask_char)
    )
    masked = pc.binary_join_element_wise(first, pa.scalar(mask_char * NAME_FIXED_HIDDEN), "")
    return pc.if_else(pc.equal(length, 0), pa.scalar(""), masked)


def _address(values: pa.Array, hide_tail: int, mask_char: str) -> pa.Array:
    """The last ``hide_tail`` code points hidden; a shorter value hidden whole."""
    head = pc.utf8_slice_codeunits(values, 0, -hide_tail)  # "" when too short
    hidden = pc.min_element_wise(pc.utf8_length(values), hide_tail)
    return pc.binary_join_element_wise(head, pc.binary_repeat(pa.scalar(mask_char), hidden), "")


def _email(values: pa.Array, mask_char: str) -> pa.Array:
    """First character of the local part and the domain shown; a non-address hidden whole."""
    parts = pc.extract_regex(values, _EMAIL)
    local = pc.fill_null(pc.struct_field(parts, "local"), "")
    domain = pc.fill_null(pc.struct_field(parts, "domain"), "")
    is_address = pc.and_(
        pc.greater(pc.utf8_length(local), 0), pc.greater(pc.utf8_length(domain), 0)
    )
    shown = pc.binary_join_element_wise(_ends(local, 1, 0, mask_char), domain, "@")
    return pc.if_else(pc.fill_null(is_address, False), shown, _whole(values, mask_char))


def _separated_by_rule(
    values: pa.Array, masked: pa.Array, kind: MaskKind, opts: dict[str, Any]
) -> pa.Array:
    """Numbers written with separators (``6222 0212 ...``) keep them shown and uncounted;
    they are rare, so those values take the scalar rule."""
    separated = pc.fill_null(pc.match_substring_regex(values, _SEPARATOR_PATTERN), False)
    if not pc.any(separated).as_py():
        return masked
    originals = pc.filter(values, separated).to_pylist()
    replaced = pa.array([mask(v, kind, **opts) for v in originals], pa.string())
    return pc.replace_with_mask(masked, separated, replaced)
