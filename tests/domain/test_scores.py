from __future__ import annotations

from decimal import Decimal

import pytest

from ecrf.domain.errors import DomainError
from ecrf.domain.scores import (
    ESSDAI_DOMAINS,
    essdai_activity,
    essdai_mcii,
    essdai_total,
    esspri_acceptable,
    esspri_mcii,
    esspri_score,
    is_clinically_important_improvement,
)

ALL_ZERO = dict.fromkeys(ESSDAI_DOMAINS, 0)
ALL_MAX = {name: max(domain.levels) for name, domain in ESSDAI_DOMAINS.items()}


def levels(**changes: int) -> dict[str, int]:
    return {**ALL_ZERO, **changes}


def test_essdai_has_twelve_domains_with_published_weights() -> None:
    weights = {name: domain.weight for name, domain in ESSDAI_DOMAINS.items()}
    assert weights == {
        "constitutional": 3,
        "lymphadenopathy": 4,
        "glandular": 2,
        "articular": 2,
        "cutaneous": 3,
        "pulmonary": 5,
        "renal": 5,
        "muscular": 6,
        "peripheral_nervous": 5,
        "central_nervous": 5,
        "haematological": 2,
        "biological": 1,
    }


@pytest.mark.parametrize(
    ("domain_levels", "total", "activity"),
    [
        (ALL_ZERO, 0, "low"),
        (ALL_MAX, 123, "high"),
        (levels(haematological=2, biological=2), 6, "moderate"),  # 2×2 + 1×2
        (levels(articular=2), 4, "low"),  # just below 5
        (levels(constitutional=1, articular=1), 5, "moderate"),  # exactly 5
        (levels(muscular=2, biological=1), 13, "moderate"),  # upper end of moderate
        (levels(haematological=3, pulmonary=1, constitutional=1), 14, "high"),  # exactly 14
        (levels(central_nervous=2), 10, "moderate"),
    ],
)
def test_essdai_total_and_activity(
    domain_levels: dict[str, int], total: int, activity: str
) -> None:
    result = essdai_total(domain_levels)
    assert (result.total, result.activity) == (total, activity)
    assert sum(result.per_domain.values()) == total


def test_essdai_per_domain_is_weight_times_level() -> None:
    result = essdai_total(levels(muscular=3, glandular=1))
    assert result.per_domain["muscular"] == 18
    assert result.per_domain["glandular"] == 2
    assert result.per_domain["renal"] == 0


@pytest.mark.parametrize(
    ("domain_levels", "field"),
    [
        ({**ALL_ZERO, "lungs": 1}, "domains.lungs"),
        (levels(pulmonary=4), "domains.pulmonary"),
        (levels(constitutional=3), "domains.constitutional"),  # no "high" level
        (levels(glandular=3), "domains.glandular"),
        (levels(biological=3), "domains.biological"),
        (levels(central_nervous=1), "domains.central_nervous"),  # no "low" level
        (levels(renal=-1), "domains.renal"),
        (levels(renal=True), "domains.renal"),
        ({name: 0 for name in ESSDAI_DOMAINS if name != "renal"}, "domains.renal"),  # missing
    ],
)
def test_essdai_rejects_bad_domain_or_level(domain_levels: dict[str, int], field: str) -> None:
    with pytest.raises(DomainError) as error:
        essdai_total(domain_levels)
    assert error.value.field == field


def test_essdai_activity_cut_offs_are_parameters() -> None:
    assert essdai_activity(5) == "moderate"
    assert essdai_activity(5, moderate_from=6) == "low"
    assert essdai_total(levels(constitutional=1, articular=1), moderate_from=6).activity == "low"


@pytest.mark.parametrize(
    ("dryness", "fatigue", "pain", "expected"),
    [
        (0, 0, 0, Decimal("0.00")),
        (10, 10, 10, Decimal("10.00")),
        (5, 6, 6, Decimal("5.67")),
        (5, 5, 6, Decimal("5.33")),
        (Decimal("4.5"), 5, 6, Decimal("5.17")),  # 15.5 / 3 = 5.1666…
        (6.1, 5, 4, Decimal("5.03")),  # a float is read as its decimal text
        ("7", "8", "9", Decimal("8.00")),
    ],
)
def test_esspri_is_the_rounded_mean(
    dryness: object, fatigue: object, pain: object, expected: Decimal
) -> None:
    assert esspri_score(dryness, fatigue, pain) == expected


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((11, 5, 5), "dryness"),
        ((5, -1, 5), "fatigue"),
        ((5, 5, "a lot"), "pain"),
        ((5, 5, None), "pain"),
        ((True, 5, 5), "dryness"),
    ],
)
def test_esspri_rejects_out_of_range_scales(args: tuple[object, ...], field: str) -> None:
    with pytest.raises(DomainError) as error:
        esspri_score(*args)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("score", "acceptable"),
    [(Decimal("4.99"), True), (Decimal("5.00"), False), (Decimal("0"), True)],
)
def test_esspri_acceptable_state_is_below_five(score: Decimal, acceptable: bool) -> None:
    assert esspri_acceptable(score) is acceptable


@pytest.mark.parametrize(
    ("baseline", "follow_up", "improved"),
    [(12, 9, True), (12, 10, False), (3, 0, True), (5, 6, False)],
)
def test_essdai_mcii_is_a_fall_of_at_least_three(
    baseline: int, follow_up: int, improved: bool
) -> None:
    assert essdai_mcii(baseline, follow_up) is improved


@pytest.mark.parametrize(
    ("baseline", "follow_up", "improved"),
    [
        ("6.00", "5.00", True),  # fall of exactly 1 point
        ("6.00", "5.10", True),  # 0.9 = exactly 15 %
        ("6.00", "5.20", False),  # 0.8 = 13.3 %
        ("4.00", "3.40", True),  # 0.6 = exactly 15 %
        ("4.00", "3.41", False),
        ("0.00", "0.00", False),  # a zero baseline cannot fall
    ],
)
def test_esspri_mcii_is_one_point_or_fifteen_percent(
    baseline: str, follow_up: str, improved: bool
) -> None:
    assert esspri_mcii(Decimal(baseline), Decimal(follow_up)) is improved


def test_mcii_thresholds_are_parameters() -> None:
    assert essdai_mcii(12, 10, absolute_drop=Decimal(2)) is True
    assert is_clinically_important_improvement(10, 8, relative_drop=Decimal("0.2")) is True
    assert is_clinically_important_improvement(10, 8, relative_drop=Decimal("0.25")) is False
    with pytest.raises(DomainError) as error:
        is_clinically_important_improvement(10, 8)
    assert error.value.field == "mcii"
