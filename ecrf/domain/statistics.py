"""Summary statistics for the study report: proportions, two-arm binary comparison, continuous
summaries and Kaplan–Meier medians.

Conventions:
- Every returned number is a float rounded to 4 decimal places (ROUND_HALF_EVEN, Python's
  ``round``), so that a report shows the same digits that a test asserts. A p-value below 0.00005
  therefore reads 0.0; report such values as "< 0.0001".
- Undefined quantities (a rate with n = 0, a confidence limit of an empty arm, a median survival
  that is not reached) are ``None``, never NaN.
- Each result names its method, so that the report can print it next to the number.
- Exact tests and distributions come from scipy (a maintained library); the small closed-form
  intervals (Wilson, Woolf, Newcombe) are written out here with their references.
"""

from __future__ import annotations

import math
import statistics as pystats
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from fractions import Fraction
from typing import Any

from scipy.stats import binomtest, fisher_exact, norm

from ecrf.domain.errors import DomainError

DECIMALS = 4
FISHER_TEST = "Fisher's exact test, two-sided"
WOOLF_METHOD = "Woolf logit"
HALDANE_METHOD = "Woolf logit with Haldane +0.5 correction (a cell is 0)"
NEWCOMBE_METHOD = "Newcombe hybrid score (Wilson, no continuity correction)"
QUANTILE_METHOD = (
    "linear interpolation between order statistics (statistics.quantiles method='inclusive', "
    "numpy default)"
)
KAPLAN_MEIER_METHOD = "Kaplan–Meier product limit; median = smallest time with S(t) ≤ 0.5"
PROPORTION_METHODS = {"wilson": "Wilson score", "exact": "Clopper–Pearson exact"}


class _DictLike:
    """Lets a result dataclass be read as ``result["odds_ratio"]`` and exported with ``as_dict``."""

    def __getitem__(self, key: str) -> Any:
        if key not in {field.name for field in fields(self)}:  # type: ignore[arg-type]
            raise KeyError(key)
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class ProportionEstimate(_DictLike):
    responders: int
    n: int
    rate: float | None
    lower: float | None
    upper: float | None
    method: str
    confidence: float


@dataclass(frozen=True)
class BinaryComparison(_DictLike):
    """Arm 1 versus arm 2: odds ratio and risk difference are arm 1 relative to arm 2."""

    rate_1: float | None
    rate_2: float | None
    arm_1: ProportionEstimate  # rate with its own confidence interval (Wilson)
    arm_2: ProportionEstimate
    odds_ratio: float | None
    odds_ratio_lower: float | None
    odds_ratio_upper: float | None
    odds_ratio_method: str
    haldane_correction: bool
    risk_difference: float | None
    risk_difference_lower: float | None
    risk_difference_upper: float | None
    risk_difference_method: str
    p_value: float | None
    test: str
    confidence: float


@dataclass(frozen=True)
class ContinuousSummary(_DictLike):
    n: int
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None
    quantile_method: str


@dataclass(frozen=True)
class KaplanMeierStep(_DictLike):
    time: float
    at_risk: int
    events: int
    survival: float


@dataclass(frozen=True)
class KaplanMeierSummary(_DictLike):
    n: int
    events: int
    censored: int
    median: float | None  # None: the curve never falls to 0.5 (median not reached)
    steps: tuple[KaplanMeierStep, ...]
    method: str


def proportion_ci(
    responders: int, n: int, method: str = "wilson", *, confidence: float = 0.95
) -> ProportionEstimate:
    """Rate with its confidence interval: Wilson score (default) or Clopper–Pearson ("exact")."""
    _check_counts(responders, n, "responders", "n")
    if method not in PROPORTION_METHODS:
        raise DomainError("method", f"unknown method {method!r} (known: wilson, exact)")
    label = PROPORTION_METHODS[method]
    if n == 0:
        return ProportionEstimate(responders, n, None, None, None, label, confidence)
    if method == "wilson":
        lower, upper = _wilson_interval(responders, n, confidence)
    else:
        interval = binomtest(responders, n).proportion_ci(confidence, method="exact")
        lower, upper = interval.low, interval.high
    return ProportionEstimate(
        responders, n, _round(responders / n), _round(lower), _round(upper), label, confidence
    )


def compare_binary(
    r1: int, n1: int, r2: int, n2: int, *, confidence: float = 0.95
) -> BinaryComparison:
    """Two arms, binary endpoint: rates, odds ratio, risk difference and Fisher's exact test."""
    _check_counts(r1, n1, "r1", "n1")
    _check_counts(r2, n2, "r2", "n2")
    arm_1 = proportion_ci(r1, n1, confidence=confidence)
    arm_2 = proportion_ci(r2, n2, confidence=confidence)
    if n1 == 0 or n2 == 0:
        # An empty arm leaves every comparison undefined.
        return BinaryComparison(
            rate_1=arm_1.rate,
            rate_2=arm_2.rate,
            arm_1=arm_1,
            arm_2=arm_2,
            odds_ratio=None,
            odds_ratio_lower=None,
            odds_ratio_upper=None,
            odds_ratio_method=WOOLF_METHOD,
            haldane_correction=False,
            risk_difference=None,
            risk_difference_lower=None,
            risk_difference_upper=None,
            risk_difference_method=NEWCOMBE_METHOD,
            p_value=None,
            test=FISHER_TEST,
            confidence=confidence,
        )
    odds_ratio, or_lower, or_upper, corrected = _woolf_odds_ratio(r1, n1, r2, n2, confidence)
    difference, rd_lower, rd_upper = _newcombe_difference(r1, n1, r2, n2, confidence)
    _, p_value = fisher_exact([[r1, n1 - r1], [r2, n2 - r2]], alternative="two-sided")
    return BinaryComparison(
        rate_1=arm_1.rate,
        rate_2=arm_2.rate,
        arm_1=arm_1,
        arm_2=arm_2,
        odds_ratio=_round(odds_ratio),
        odds_ratio_lower=_round(or_lower),
        odds_ratio_upper=_round(or_upper),
        odds_ratio_method=HALDANE_METHOD if corrected else WOOLF_METHOD,
        haldane_correction=corrected,
        risk_difference=_round(difference),
        risk_difference_lower=_round(rd_lower),
        risk_difference_upper=_round(rd_upper),
        risk_difference_method=NEWCOMBE_METHOD,
        p_value=_round(float(p_value)),
        test=FISHER_TEST,
        confidence=confidence,
    )


def describe_continuous(values: Iterable[Decimal | int | float]) -> ContinuousSummary:
    """n, median and quartiles (inclusive linear interpolation), minimum and maximum."""
    numbers = sorted(_as_decimal(value, f"values.{index}") for index, value in enumerate(values))
    if not numbers:
        return ContinuousSummary(0, None, None, None, None, None, QUANTILE_METHOD)
    if len(numbers) == 1:
        only = _round(numbers[0])
        return ContinuousSummary(1, only, only, only, only, only, QUANTILE_METHOD)
    q1, median, q3 = pystats.quantiles(numbers, n=4, method="inclusive")
    return ContinuousSummary(
        n=len(numbers),
        median=_round(median),
        q1=_round(q1),
        q3=_round(q3),
        minimum=_round(numbers[0]),
        maximum=_round(numbers[-1]),
        quantile_method=QUANTILE_METHOD,
    )


def kaplan_meier(
    times: Sequence[Decimal | int | float], events: Sequence[bool]
) -> KaplanMeierSummary:
    """Exact product-limit estimate; censored subjects are still at risk at their own time."""
    if len(times) != len(events):
        raise DomainError("events", f"{len(events)} event flags for {len(times)} times")
    observations = []
    for index, (time, event) in enumerate(zip(times, events, strict=True)):
        value = _as_decimal(time, f"times.{index}")
        if value < 0:
            raise DomainError(f"times.{index}", f"negative time {time!r}")
        if not isinstance(event, bool):
            raise DomainError(f"events.{index}", f"{event!r} is not true/false")
        observations.append((value, event))
    survival = Fraction(1)  # exact arithmetic: S(t) = 0.5 must compare equal to 0.5
    steps = []
    median = None
    for time in sorted({time for time, event in observations if event}):
        at_risk = sum(1 for other, _ in observations if other >= time)
        deaths = sum(1 for other, event in observations if event and other == time)
        survival *= 1 - Fraction(deaths, at_risk)
        steps.append(KaplanMeierStep(_round(time), at_risk, deaths, _round(survival)))
        if median is None and survival <= Fraction(1, 2):
            median = _round(time)
    event_count = sum(1 for _, event in observations if event)
    return KaplanMeierSummary(
        n=len(observations),
        events=event_count,
        censored=len(observations) - event_count,
        median=median,
        steps=tuple(steps),
        method=KAPLAN_MEIER_METHOD,
    )


def _wilson_interval(responders: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval (Wilson 1927), without continuity correction."""
    z = _z(confidence)
    rate = responders / n
    denominator = 1 + z * z / n
    centre = (rate + z * z / (2 * n)) / denominator
    half_width = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half_width), min(1.0, centre + half_width)


def _woolf_odds_ratio(
    r1: int, n1: int, r2: int, n2: int, confidence: float
) -> tuple[float, float, float, bool]:
    """Odds ratio with Woolf's logit interval; +0.5 on every cell only when a cell is 0."""
    cells = [r1, n1 - r1, r2, n2 - r2]
    corrected = 0 in cells
    a, b, c, d = (cell + 0.5 for cell in cells) if corrected else cells
    odds_ratio = (a * d) / (b * c)
    standard_error = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    spread = _z(confidence) * standard_error
    log_or = math.log(odds_ratio)
    return odds_ratio, math.exp(log_or - spread), math.exp(log_or + spread), corrected


def _newcombe_difference(
    r1: int, n1: int, r2: int, n2: int, confidence: float
) -> tuple[float, float, float]:
    """Risk difference p1 − p2 with Newcombe's hybrid score interval (1998, method 10)."""
    p1, p2 = r1 / n1, r2 / n2
    low1, high1 = _wilson_interval(r1, n1, confidence)
    low2, high2 = _wilson_interval(r2, n2, confidence)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2)
    upper = difference + math.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2)
    return difference, lower, upper


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise DomainError("confidence", f"{confidence!r} is not between 0 and 1")
    return float(norm.ppf(1 - (1 - confidence) / 2))


def _check_counts(responders: int, n: int, responders_field: str, n_field: str) -> None:
    for field_name, value in ((responders_field, responders), (n_field, n)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DomainError(field_name, f"{value!r} is not a count (integer ≥ 0)")
    if responders > n:
        raise DomainError(responders_field, f"{responders} responders out of {n}")


def _as_decimal(value: object, field_name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise DomainError(field_name, f"{value!r} is not a number")
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise DomainError(field_name, f"{value!r} is not a finite number")
    return number


def _round(value: float | Decimal | Fraction) -> float:
    return round(float(value), DECIMALS)
