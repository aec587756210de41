from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import fisher_exact

from ecrf.domain.errors import DomainError
from ecrf.domain.statistics import (
    FISHER_TEST,
    HALDANE_METHOD,
    NEWCOMBE_METHOD,
    WOOLF_METHOD,
    compare_binary,
    describe_continuous,
    kaplan_meier,
    proportion_ci,
)


class TestNct05471050Abstract:
    """23/43 vs 14/47 sustained responders (abstract 001): the system computes, it does not copy."""

    result = compare_binary(23, 43, 14, 47)

    def test_rates(self) -> None:
        assert (self.result.rate_1, self.result.rate_2) == (0.5349, 0.2979)

    def test_odds_ratio_is_2_71_not_the_printed_2_17(self) -> None:
        assert self.result.odds_ratio == 2.7107  # (23 × 33) / (20 × 14)
        assert (self.result.odds_ratio_lower, self.result.odds_ratio_upper) == (1.1403, 6.4442)
        assert self.result.odds_ratio_method == WOOLF_METHOD
        assert self.result.haldane_correction is False

    def test_fisher_exact_p(self) -> None:
        _, exact_p = fisher_exact([[23, 20], [14, 33]], alternative="two-sided")
        assert self.result.p_value == round(float(exact_p), 4) == 0.0319
        assert self.result.test == FISHER_TEST == "Fisher's exact test, two-sided"

    def test_risk_difference_with_newcombe_interval(self) -> None:
        assert self.result.risk_difference == 0.237
        assert self.result.risk_difference_lower == 0.0336
        assert self.result.risk_difference_upper == 0.4159
        assert self.result.risk_difference_method == NEWCOMBE_METHOD

    def test_reads_like_a_dict(self) -> None:
        assert self.result["odds_ratio"] == 2.7107
        assert self.result.as_dict()["arm_1"]["rate"] == 0.5349
        with pytest.raises(KeyError):
            self.result["relative_risk"]


def test_newcombe_published_example() -> None:
    # Newcombe 1998, Stat Med 17:873, example (a): 56/70 − 48/80, method 10 gives 0.0524 to 0.3339.
    result = compare_binary(56, 70, 48, 80)
    assert (result.risk_difference_lower, result.risk_difference_upper) == (0.0524, 0.3339)


@pytest.mark.parametrize(
    ("responders", "n", "method", "expected"),
    [
        (81, 263, "wilson", (0.308, 0.2553, 0.3662)),  # Newcombe 1998 single-proportion example
        (23, 43, "wilson", (0.5349, 0.3892, 0.6749)),
        (23, 43, "exact", (0.5349, 0.3765, 0.6882)),
        (0, 10, "wilson", (0.0, 0.0, 0.2775)),
        (0, 10, "exact", (0.0, 0.0, 0.3085)),
        (10, 10, "exact", (1.0, 0.6915, 1.0)),
        (0, 0, "wilson", (None, None, None)),
    ],
)
def test_proportion_ci(
    responders: int, n: int, method: str, expected: tuple[float | None, ...]
) -> None:
    estimate = proportion_ci(responders, n, method)
    assert (estimate.rate, estimate.lower, estimate.upper) == expected


@pytest.mark.parametrize(
    ("args", "field"),
    [((5, 4), "responders"), ((-1, 4), "responders"), ((1, 2.5), "n")],
)
def test_proportion_ci_rejects_bad_counts(args: tuple[object, ...], field: str) -> None:
    with pytest.raises(DomainError) as error:
        proportion_ci(*args)  # type: ignore[arg-type]
    assert error.value.field == field


def test_proportion_ci_rejects_unknown_method() -> None:
    with pytest.raises(DomainError) as error:
        proportion_ci(1, 2, "wald")
    assert error.value.field == "method"


def test_haldane_correction_only_when_a_cell_is_zero() -> None:
    result = compare_binary(0, 10, 5, 10)
    assert result.haldane_correction is True
    assert result.odds_ratio_method == HALDANE_METHOD
    assert result.odds_ratio == 0.0476  # (0.5 × 5.5) / (10.5 × 5.5)
    assert (result.odds_ratio_lower, result.odds_ratio_upper) == (0.0022, 1.0293)
    assert result.p_value == 0.0325


def test_empty_arm_leaves_comparison_undefined() -> None:
    result = compare_binary(0, 0, 1, 2)
    assert result.rate_1 is None
    assert result.odds_ratio is None
    assert result.risk_difference is None
    assert result.p_value is None


def test_compare_binary_rejects_more_responders_than_patients() -> None:
    with pytest.raises(DomainError) as error:
        compare_binary(5, 4, 1, 2)
    assert error.value.field == "r1"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], (0, None, None, None)),
        ([Decimal(7)], (1, 7.0, 7.0, 7.0)),
        ([1, 2, 3, 4], (4, 2.5, 1.75, 3.25)),
        ([90, 70, 100], (3, 90.0, 80.0, 95.0)),
        ([Decimal("1.5"), Decimal("2.5"), 3, 10, 12], (5, 3.0, 2.5, 10.0)),
        ([0.1, 0.2, 0.3], (3, 0.2, 0.15, 0.25)),
    ],
)
def test_describe_continuous(values: list[object], expected: tuple[object, ...]) -> None:
    summary = describe_continuous(values)  # type: ignore[arg-type]
    assert (summary.n, summary.median, summary.q1, summary.q3) == expected
    assert "inclusive" in summary.quantile_method


def test_describe_continuous_rejects_non_numbers() -> None:
    with pytest.raises(DomainError) as error:
        describe_continuous([1, None])  # type: ignore[list-item]
    assert error.value.field == "values.1"


@pytest.mark.parametrize(
    ("times", "events", "median", "counts"),
    [
        ([1, 2, 3, 4], [True, True, False, True], 2.0, (3, 1)),  # S(2) = 0.5 exactly
        ([5, 8, 12, 20], [True, False, False, False], None, (1, 3)),  # not reached
        ([3, 3, 3, 6], [True, True, False, True], 3.0, (3, 1)),  # tie: S(3) = 0.5
        ([10, 20, 30], [False, True, True], 20.0, (2, 1)),  # censored first: S(20) = 1/2
        ([], [], None, (0, 0)),
    ],
)
def test_kaplan_meier_median(
    times: list[int], events: list[bool], median: float | None, counts: tuple[int, int]
) -> None:
    summary = kaplan_meier(times, events)
    assert summary.median == median
    assert (summary.events, summary.censored) == counts


def test_kaplan_meier_steps_are_product_limit() -> None:
    summary = kaplan_meier([6, 6, 6, 7, 10, 13], [True, True, False, True, False, True])
    assert [(step.time, step.at_risk, step.events, step.survival) for step in summary.steps] == [
        (6.0, 6, 2, 0.6667),
        (7.0, 3, 1, 0.4444),
        (13.0, 1, 1, 0.0),
    ]
    assert summary.median == 7.0


@pytest.mark.parametrize(
    ("times", "events", "field"),
    [([1, 2], [True], "events"), ([1, -2], [True, True], "times.1"), ([1], ["yes"], "events.0")],
)
def test_kaplan_meier_rejects_bad_input(times: list[int], events: list[object], field: str) -> None:
    with pytest.raises(DomainError) as error:
        kaplan_meier(times, events)  # type: ignore[arg-type]
    assert error.value.field == field


@given(
    n=st.integers(min_value=1, max_value=300),
    data=st.data(),
    method=st.sampled_from(["wilson", "exact"]),
)
def test_interval_contains_the_rate(n: int, data: st.DataObject, method: str) -> None:
    responders = data.draw(st.integers(min_value=0, max_value=n))
    estimate = proportion_ci(responders, n, method)
    assert estimate.lower is not None and estimate.upper is not None
    assert 0.0 <= estimate.lower <= estimate.rate <= estimate.upper <= 1.0
