"""Differential privacy: OpenDP mechanisms and the ε budget.

OpenDP draws from the system CSPRNG and cannot be seeded, so accuracy is pinned statistically:
bounds sit more than ten standard errors from the expected value, so the tests do not flake.
"""

from __future__ import annotations

import math
import statistics
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy import (
    BudgetExhausted,
    InvalidPrivacyParameter,
    PrivacyBudget,
    laplace_count,
    laplace_sum,
    noisy_mean,
)
from privacy.dp import _calibrate, _count_measurement, _sum_measurement

BAD_EPSILONS = [0, 0.0, -0.5, math.nan, math.inf, -math.inf, True, "1"]


def exact(value: float) -> Decimal:
    """A float as the decimal its user wrote, e.g. 0.1 as exactly one tenth."""
    return Decimal(repr(value))


# --- mechanisms -------------------------------------------------------------------------------


def test_laplace_count_is_an_int_close_to_the_truth_at_large_epsilon() -> None:
    results = [laplace_count(1234, 1000.0) for _ in range(20)]

    assert all(type(result) is int for result in results)
    assert all(abs(result - 1234) <= 1 for result in results)


def test_laplace_count_error_matches_scale_one_over_epsilon() -> None:
    errors = [laplace_count(100, 1.0) for _ in range(2000)]
    errors = [e - 100 for e in errors]

    # Discrete Laplace with t = e^-1: E|X| = 2t / (1 - t^2) ≈ 0.85, sd of |X| ≈ 1.
    assert 0.6 < statistics.fmean(abs(e) for e in errors) < 1.2
    assert abs(statistics.fmean(errors)) < 0.25
    assert any(e != 0 for e in errors)


def test_laplace_count_error_grows_as_epsilon_shrinks() -> None:
    errors = [abs(laplace_count(100, 0.1) - 100) for _ in range(500)]

    # E|X| ≈ 10 at ε = 0.1 (sd ≈ 10, so the standard error is ≈ 0.45).
    assert 6 < statistics.fmean(errors) < 14


def test_laplace_count_scales_noise_with_sensitivity() -> None:
    errors = [abs(laplace_count(100, 1.0, sensitivity=10) - 100) for _ in range(500)]

    assert 6 < statistics.fmean(errors) < 14


@pytest.mark.parametrize("epsilon", BAD_EPSILONS, ids=repr)
def test_mechanisms_refuse_bad_epsilon(epsilon: float) -> None:
    with pytest.raises(InvalidPrivacyParameter) as caught:
        laplace_count(10, epsilon)
    assert caught.value.field == "epsilon"
    with pytest.raises(InvalidPrivacyParameter):
        laplace_sum([1.0], 0.0, 1.0, epsilon)
    with pytest.raises(InvalidPrivacyParameter):
        noisy_mean([1.0], 0.0, 1.0, epsilon)


@pytest.mark.parametrize("true_count", [-1, 1.5, True, 2**63], ids=repr)
def test_laplace_count_refuses_non_counts(true_count: int) -> None:
    with pytest.raises(InvalidPrivacyParameter) as caught:
        laplace_count(true_count, 1.0)
    assert caught.value.field == "true_count"


def test_laplace_sum_clamps_each_record_to_the_bounds() -> None:
    values = [1.0, 2.0, 3.0, 250.0, -40.0]  # clamped: 1 + 2 + 3 + 10 + 0 = 16

    results = [laplace_sum(values, 0, 10, 1000.0) for _ in range(20)]

    assert all(isinstance(result, float) for result in results)
    assert all(abs(result - 16.0) < 0.5 for result in results)


def test_laplace_sum_drops_missing_records_and_clamps_infinities() -> None:
    result = laplace_sum([1.0, math.nan, None, math.inf, -math.inf], 0, 10, 1000.0)

    assert abs(result - 11.0) < 0.5


def test_laplace_sum_refuses_non_numbers_without_quoting_them() -> None:
    with pytest.raises(TypeError) as caught:
        laplace_sum([1.0, "张三"], 0, 10, 1.0)  # type: ignore[list-item]
    assert "张三" not in str(caught.value)


def test_laplace_sum_error_matches_scale_sensitivity_over_epsilon() -> None:
    errors = [abs(laplace_sum([0.5] * 10, 0.0, 1.0, 1.0) - 5.0) for _ in range(1000)]

    # Sensitivity 1 (up to OpenDP's float-rounding allowance): E|X| = 1, sd = 1.
    assert 0.8 < statistics.fmean(errors) < 1.2


@pytest.mark.parametrize(
    ("lower", "upper"),
    [(1.0, 1.0), (2.0, 1.0), (0.0, math.inf), (math.nan, 1.0), (0.0, 1e308)],
    ids=["equal", "reversed", "infinite", "nan", "too-wide"],
)
def test_laplace_sum_refuses_bad_bounds(lower: float, upper: float) -> None:
    with pytest.raises(InvalidPrivacyParameter):
        laplace_sum([1.0], lower, upper, 1.0)


def test_noisy_mean_is_close_to_the_clamped_mean_at_large_epsilon() -> None:
    values = [20.0, 30.0, 40.0, 500.0]  # clamped to [0, 100]: mean 47.5

    assert abs(noisy_mean(values, 0, 100, 1000.0) - 47.5) < 0.5


def test_noisy_mean_stays_within_the_bounds_even_when_noise_dominates() -> None:
    results = [noisy_mean([5.0, 6.0], 0.0, 10.0, 0.01) for _ in range(200)]

    assert all(0.0 <= result <= 10.0 for result in results)
    assert noisy_mean([], 0.0, 10.0, 1000.0) == 5.0


@settings(deadline=None, max_examples=40)
@given(epsilon=st.floats(min_value=1e-3, max_value=1e4), sensitivity=st.integers(1, 100))
def test_calibrated_mechanisms_never_lose_more_than_epsilon(
    epsilon: float, sensitivity: int
) -> None:
    # OpenDP's own accounting, not ours, must confirm the ε we charge.
    assert _calibrate(_count_measurement(epsilon), epsilon).map(1) <= epsilon
    assert _calibrate(_sum_measurement(-3.0, 7.5, epsilon), epsilon).map(1) <= epsilon
    count = _count_measurement(epsilon / sensitivity)
    assert _calibrate(count, epsilon / sensitivity).map(1) <= epsilon / sensitivity


# --- budget -----------------------------------------------------------------------------------


def test_ten_charges_of_a_tenth_exhaust_a_budget_of_one_exactly() -> None:
    budget = PrivacyBudget(total_epsilon=1.0)
    for _ in range(10):
        budget = budget.charge(0.1)

    assert budget.spent_epsilon == 1.0
    assert budget.remaining_epsilon == 0.0
    with pytest.raises(BudgetExhausted):
        budget.charge(0.1)


def test_charge_returns_a_new_budget_and_leaves_the_old_one_alone() -> None:
    budget = PrivacyBudget(total_epsilon=1.0)

    charged = budget.charge(0.25)

    assert budget.spent_epsilon == 0.0
    assert charged == PrivacyBudget(total_epsilon=1.0, spent_epsilon=0.25)
    assert charged.remaining_epsilon == 0.75


def test_budget_exhausted_is_a_403_naming_the_numbers_only() -> None:
    budget = PrivacyBudget(total_epsilon=0.5, spent_epsilon=0.3)

    with pytest.raises(BudgetExhausted) as caught:
        budget.charge(0.3)

    error = caught.value
    assert error.status_code == 403
    assert error.error_code == "PRIVACY_BUDGET_EXHAUSTED"
    assert not error.transient
    assert str(error) == (
        "隐私预算已用尽 (privacy budget exhausted): requested ε=0.3, remaining ε=0.2"
    )


def test_can_afford_predicts_charge() -> None:
    budget = PrivacyBudget(total_epsilon=0.3, spent_epsilon=0.1)

    assert budget.can_afford(0.2)
    assert not budget.can_afford(0.20001)


@pytest.mark.parametrize("epsilon", BAD_EPSILONS, ids=repr)
def test_charge_refuses_bad_epsilon(epsilon: float) -> None:
    with pytest.raises(InvalidPrivacyParameter) as caught:
        PrivacyBudget(total_epsilon=1.0).charge(epsilon)
    assert caught.value.status_code == 422


@pytest.mark.parametrize(
    ("total", "spent"),
    [(-1.0, 0.0), (1.0, -0.1), (1.0, 1.5), (math.nan, 0.0), (math.inf, 0.0), (1.0, math.nan)],
    ids=repr,
)
def test_budget_refuses_impossible_states(total: float, spent: float) -> None:
    with pytest.raises(InvalidPrivacyParameter):
        PrivacyBudget(total_epsilon=total, spent_epsilon=spent)


def test_an_empty_budget_affords_nothing() -> None:
    with pytest.raises(BudgetExhausted):
        PrivacyBudget(total_epsilon=0).charge(1e-9)


@given(
    total=st.floats(min_value=0.0, max_value=100.0),
    charges=st.lists(st.floats(min_value=1e-9, max_value=20.0), max_size=40),
)
def test_budget_never_goes_negative_nor_accepts_more_than_its_total(
    total: float, charges: list[float]
) -> None:
    budget = PrivacyBudget(total_epsilon=total)
    accepted: list[float] = []
    for epsilon in charges:
        before = budget
        try:
            budget = budget.charge(epsilon)
        except BudgetExhausted:
            assert budget == before
            # Refused only when it truly would not fit (allowing the 1e-12 rounding per charge).
            overshoot = sum(map(exact, accepted)) + exact(epsilon) - exact(total)
            assert overshoot > -Decimal("1e-12") * (len(accepted) + 2)
        else:
            accepted.append(epsilon)
        assert 0.0 <= budget.remaining_epsilon <= total
        assert budget.spent_epsilon <= budget.total_epsilon

    assert sum(map(exact, accepted)) <= exact(total)
    assert math.fsum(accepted) <= total * (1 + 1e-15)
    # No drift: what the budget records is what was charged, to the 1e-12 step.
    assert abs(budget.spent_epsilon - math.fsum(accepted)) <= 1e-12 * (len(accepted) + 1)


@given(
    epsilon=st.decimals(min_value="0.000001", max_value="1", places=6),
    times=st.integers(1, 60),
)
def test_repeated_equal_charges_fill_the_budget_exactly(epsilon: Decimal, times: int) -> None:
    budget = PrivacyBudget(total_epsilon=float(epsilon * times))
    for _ in range(times):
        budget = budget.charge(float(epsilon))

    assert budget.remaining_epsilon == 0.0
    assert not budget.can_afford(float(epsilon))
