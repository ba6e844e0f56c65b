"""Differential privacy (差分隐私): noisy aggregates through OpenDP, and the ε budget they spend.

Mechanisms are built from OpenDP measurements (clamp, sum, count, Laplace) whose privacy loss is
checked with OpenDP's own ``map`` before anything is released, so the ε a caller charges to a
``PrivacyBudget`` is never less than what the release actually costs. One person is assumed to
contribute one record (one row to a sum, 1 to a count) unless the caller states a larger
contribution bound (``contributions``): the caller must then have kept at most that many
records per person, and the noise grows with the bound.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from types import ModuleType
from typing import TYPE_CHECKING, Any

from privacy.errors import BudgetExhausted, InvalidPrivacyParameter

if TYPE_CHECKING:
    from opendp.mod import Measurement

EPSILON_DECIMALS = 12
"""Budgets count ε in steps of 1e-12, in integers, so repeated charges never drift."""

_MAX_I64 = 2**63 - 1
_CALIBRATION_STEPS = 64


@functools.cache
def _opendp() -> ModuleType:
    """Import OpenDP on first use: it takes ~0.4 s, too much for callers that only mask."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


def check_epsilon(epsilon: float, field: str = "epsilon") -> float:
    """Return ε as a float, refusing what no mechanism or budget can honour (<= 0, NaN, inf)."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float):
        raise InvalidPrivacyParameter(field, "must be a number")
    value = float(epsilon)
    if not math.isfinite(value) or value <= 0:
        raise InvalidPrivacyParameter(field, "must be a finite number > 0")
    return value


def _check_bounds(lower: float, upper: float) -> tuple[float, float]:
    """Clamping bounds must be finite and ordered; they decide the sensitivity."""
    for name, bound in (("lower", lower), ("upper", upper)):
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise InvalidPrivacyParameter(name, "must be a number")
        if not math.isfinite(bound):
            raise InvalidPrivacyParameter(name, "must be finite")
    if not lower < upper:
        raise InvalidPrivacyParameter("upper", "must be greater than lower")
    return float(lower), float(upper)


def _calibrate(build: Callable[[float], Measurement], epsilon: float, d_in: int = 1) -> Measurement:
    """Build with noise factor 1.0, then widen the noise a hair until OpenDP proves loss <= ε.

    Floating-point rounding in OpenDP's accounting (always conservative) makes scale = Δ/ε cost
    a few ulps more than ε; widening by ~1e-14 per step costs no measurable utility.
    """
    factor = 1.0
    for _ in range(_CALIBRATION_STEPS):
        measurement = build(factor)
        if measurement.map(d_in) <= epsilon:
            return measurement
        factor *= 1.0 + 2.0**-45
    raise InvalidPrivacyParameter("epsilon", "no noise scale achieves it")  # pragma: no cover


def _finite_values(values: Iterable[float | None]) -> list[float]:
    """Values as floats, missing (None, NaN) records dropped: a per-record step, so it keeps the
    DP guarantee. Infinities stay and are clamped to the bounds like any other outlier.

    A non-numeric value is a programming error; its message must not quote the value.
    """
    result: list[float] = []
    for value in values:
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TypeError("values must be numbers or None") from None
        if not math.isnan(number):
            result.append(number)
    return result


def _vector_space() -> tuple[Any, Any]:
    """Unknown-size datasets of floats where neighbours differ by adding or removing a record."""
    dp = _opendp()
    return dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()


def _sum_measurement(
    lower: float, upper: float, epsilon: float, contributions: int = 1
) -> Callable[[float], Measurement]:
    """Clamp, sum and add Laplace noise scaled to the sum's sensitivity over ``epsilon``.

    The sensitivity is OpenDP's for ``contributions`` records added or removed at once (one
    person's bounded share of the table).
    """
    dp = _opendp()
    try:
        bounded_sum = _vector_space() >> dp.t.then_clamp((lower, upper)) >> dp.t.then_sum()
    except dp.OpenDPException:
        raise InvalidPrivacyParameter("upper", "bounds are too wide to sum safely") from None
    sensitivity = bounded_sum.map(contributions)
    return lambda factor: bounded_sum >> dp.m.then_laplace(scale=sensitivity / epsilon * factor)


def _count_measurement(epsilon: float, contributions: int = 1) -> Callable[[float], Measurement]:
    """Count records and add Laplace noise; a count moves by one per record added or removed."""
    dp = _opendp()
    count = _vector_space() >> dp.t.then_count(TO=dp.i64)
    return lambda factor: count >> dp.m.then_laplace(scale=contributions / epsilon * factor)


def sum_sensitivity(lower: float, upper: float, *, contributions: int = 1) -> float:
    """How much one person with ``contributions`` records can move a clamped sum (OpenDP's map).

    Exposed so that callers can state the sensitivity a release was calibrated to.
    """
    lower, upper = _check_bounds(lower, upper)
    bound = _check_int("contributions", contributions, minimum=1)
    dp = _opendp()
    bounded_sum = _vector_space() >> dp.t.then_clamp((lower, upper)) >> dp.t.then_sum()
    return float(bounded_sum.map(bound))


def _check_int(field: str, value: int, *, minimum: int) -> int:
    """An integer (numpy's too) within ``[minimum, 2**63 - 1]``, the range OpenDP's i64 holds."""
    try:
        number = operator.index(value)
    except TypeError:
        number = minimum - 1
    if isinstance(value, bool) or not minimum <= number <= _MAX_I64:
        raise InvalidPrivacyParameter(field, f"must be an integer between {minimum} and 2**63-1")
    return number


def laplace_count(true_count: int, epsilon: float, *, sensitivity: int = 1) -> int:
    """Release a count with (discrete) Laplace noise of scale ``sensitivity / epsilon``.

    ``sensitivity`` is how much one person can change the count (1 when each person is one
    row). The result is unbiased and so may be negative; clamping it at 0 afterwards is free
    post-processing if a table must not show negative numbers.
    """
    epsilon = check_epsilon(epsilon)
    count = _check_int("true_count", true_count, minimum=0)
    delta = _check_int("sensitivity", sensitivity, minimum=1)
    dp = _opendp()
    space = dp.atom_domain(T=dp.i64), dp.absolute_distance(T=dp.i64)
    measurement = _calibrate(
        lambda factor: space >> dp.m.then_laplace(scale=delta / epsilon * factor), epsilon, delta
    )
    return int(measurement(count))


def laplace_sum(
    values: Iterable[float | None],
    lower: float,
    upper: float,
    epsilon: float,
    *,
    contributions: int = 1,
) -> float:
    """Release the sum of ``values`` clamped to ``[lower, upper]``, with Laplace noise.

    Clamping bounds what one record can add, which is what makes the sum private; bounds must be
    chosen from domain knowledge, never from the data. ``contributions`` is the most records
    one person may have among ``values`` (the caller enforces it).
    """
    epsilon = check_epsilon(epsilon)
    lower, upper = _check_bounds(lower, upper)
    bound = _check_int("contributions", contributions, minimum=1)
    data = _finite_values(values)
    measurement = _calibrate(_sum_measurement(lower, upper, epsilon, bound), epsilon, bound)
    return float(measurement(data))


def noisy_mean(
    values: Iterable[float | None],
    lower: float,
    upper: float,
    epsilon: float,
    *,
    contributions: int = 1,
) -> float:
    """Release the mean of ``values`` clamped to ``[lower, upper]``.

    The record count is private too, so ε is split evenly between a noisy sum and a noisy
    count, composed in OpenDP; the ratio is clamped back into the bounds (free post-processing)
    and an empty-looking dataset yields the midpoint.
    """
    epsilon = check_epsilon(epsilon)
    lower, upper = _check_bounds(lower, upper)
    bound = _check_int("contributions", contributions, minimum=1)
    data = _finite_values(values)
    dp = _opendp()
    build_sum = _sum_measurement(lower, upper, epsilon / 2, bound)
    build_count = _count_measurement(epsilon / 2, bound)
    measurement = _calibrate(
        lambda factor: dp.c.make_composition([build_sum(factor), build_count(factor)]),
        epsilon,
        bound,
    )
    noisy_total, noisy_count = measurement(data)
    if noisy_count <= 0:
        return (lower + upper) / 2
    return float(min(max(noisy_total / noisy_count, lower), upper))


def epsilon_units(epsilon: float) -> int:
    """ε as the integer steps a ledger stores, rounded up (a charge never costs less)."""
    return _to_units(check_epsilon(epsilon), ROUND_CEILING)


def budget_units(epsilon: float) -> int:
    """A budget total as integer steps, rounded down (a budget never grows by rounding)."""
    return _to_units(check_epsilon(epsilon), ROUND_FLOOR)


def units_epsilon(units: int) -> float:
    """Integer steps back to ε, for display."""
    return _from_units(units)


def _to_units(epsilon: float, rounding: str) -> int:
    """ε in 1e-12 steps, read from its shortest decimal form so ``0.1`` means exactly 1/10."""
    decimal = Decimal(repr(float(epsilon))).scaleb(EPSILON_DECIMALS)
    return int(decimal.to_integral_value(rounding=rounding))


def _from_units(units: int) -> float:
    """Back to a float; exact for up to 15 significant digits, i.e. budgets below 1000."""
    return float(Decimal(units).scaleb(-EPSILON_DECIMALS))


@dataclass(frozen=True, slots=True)
class PrivacyBudget:
    """The ε a consumer may spend on one resource (隐私预算), as an immutable value.

    ``charge`` returns a new budget, so the caller persists it atomically with the release it
    pays for. Arithmetic runs on integer steps of 1e-12 (charges rounded up, the total rounded
    down), exact for budgets below about 1000: ten charges of 0.1 exhaust a total of 1.0 exactly.
    """

    total_epsilon: float
    spent_epsilon: float = 0.0

    def __post_init__(self) -> None:
        for name in ("total_epsilon", "spent_epsilon"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidPrivacyParameter(name, "must be a number")
            if not math.isfinite(value) or value < 0:
                raise InvalidPrivacyParameter(name, "must be a finite number >= 0")
            object.__setattr__(self, name, float(value))
        if self.spent_epsilon > self.total_epsilon:
            raise InvalidPrivacyParameter("spent_epsilon", "must not exceed total_epsilon")

    def _units(self) -> tuple[int, int]:
        """(total, spent) in steps; rounding is conservative for both."""
        return (
            _to_units(self.total_epsilon, ROUND_FLOOR),
            _to_units(self.spent_epsilon, ROUND_CEILING),
        )

    @property
    def remaining_epsilon(self) -> float:
        """What may still be spent; never negative."""
        total, spent = self._units()
        return _from_units(max(total - spent, 0))

    def can_afford(self, epsilon: float) -> bool:
        """Whether ``charge(epsilon)`` would succeed, for planning a query before running it."""
        total, spent = self._units()
        return spent + _to_units(check_epsilon(epsilon), ROUND_CEILING) <= total

    def charge(self, epsilon: float) -> PrivacyBudget:
        """Spend ``epsilon`` and return the new budget, or raise ``BudgetExhausted``.

        A refused charge spends nothing: the caller must not release the result it was for.
        """
        epsilon = check_epsilon(epsilon)
        total, spent = self._units()
        new_spent = spent + _to_units(epsilon, ROUND_CEILING)
        if new_spent > total:
            raise BudgetExhausted(requested=epsilon, remaining=self.remaining_epsilon)
        return replace(self, spent_epsilon=_from_units(new_spent))
