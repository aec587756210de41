"""Sjögren's syndrome scores: ESSDAI (Seror 2010) and ESSPRI (Seror 2011).

The server computes the totals from the stored items; nothing here trusts a total typed by a user.

ESSDAI: twelve domains, each scored ``weight × activity level``; total 0–123. A domain's allowed
levels are listed in ``ESSDAI_DOMAINS`` (constitutional, glandular and biological have no "high"
level; the central nervous system domain has no "low" level). Every domain must be scored: a missing
domain would silently understate the total.

ESSPRI: the mean of three patient-rated 0–10 scales (dryness, fatigue, pain), rounded to 2 places
(ROUND_HALF_UP).

Cut-offs (activity classes, acceptable state, minimal clinically important improvement) are keyword
parameters whose defaults are the published values, so that a protocol can state its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ecrf.domain.errors import DomainError


@dataclass(frozen=True)
class EssdaiDomain:
    name: str
    weight: int
    levels: tuple[int, ...]


ESSDAI_DOMAINS: Mapping[str, EssdaiDomain] = {
    domain.name: domain
    for domain in (
        EssdaiDomain("constitutional", 3, (0, 1, 2)),
        EssdaiDomain("lymphadenopathy", 4, (0, 1, 2, 3)),
        EssdaiDomain("glandular", 2, (0, 1, 2)),
        EssdaiDomain("articular", 2, (0, 1, 2, 3)),
        EssdaiDomain("cutaneous", 3, (0, 1, 2, 3)),
        EssdaiDomain("pulmonary", 5, (0, 1, 2, 3)),
        EssdaiDomain("renal", 5, (0, 1, 2, 3)),
        EssdaiDomain("muscular", 6, (0, 1, 2, 3)),
        EssdaiDomain("peripheral_nervous", 5, (0, 1, 2, 3)),
        EssdaiDomain("central_nervous", 5, (0, 2, 3)),
        EssdaiDomain("haematological", 2, (0, 1, 2, 3)),
        EssdaiDomain("biological", 1, (0, 1, 2)),
    )
}

ESSDAI_MODERATE_FROM = 5  # low activity: total < 5
ESSDAI_HIGH_FROM = 14  # moderate 5–13, high ≥ 14
ESSDAI_MCII_DROP = Decimal(3)
ESSPRI_ACCEPTABLE_BELOW = Decimal(5)
ESSPRI_MCII_ABSOLUTE_DROP = Decimal(1)
ESSPRI_MCII_RELATIVE_DROP = Decimal("0.15")

_TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class ScoreResult:
    total: int
    per_domain: dict[str, int]  # weighted score of each domain
    activity: str  # "low" | "moderate" | "high"


def essdai_total(
    levels: Mapping[str, int],
    *,
    moderate_from: int = ESSDAI_MODERATE_FROM,
    high_from: int = ESSDAI_HIGH_FROM,
    path: str = "domains",
) -> ScoreResult:
    """Weighted ESSDAI total from the activity level of each of the twelve domains."""
    if not isinstance(levels, Mapping):
        raise DomainError(path, "must be a mapping of domain name to activity level")
    for name in levels:
        if name not in ESSDAI_DOMAINS:
            known = ", ".join(ESSDAI_DOMAINS)
            raise DomainError(f"{path}.{name}", f"unknown ESSDAI domain (known: {known})")
    per_domain = {}
    for name, domain in ESSDAI_DOMAINS.items():
        if name not in levels:
            raise DomainError(f"{path}.{name}", "missing: every ESSDAI domain must be scored")
        level = levels[name]
        if isinstance(level, bool) or not isinstance(level, int) or level not in domain.levels:
            allowed = ", ".join(str(value) for value in domain.levels)
            raise DomainError(f"{path}.{name}", f"activity level {level!r} not in {allowed}")
        per_domain[name] = domain.weight * level
    total = sum(per_domain.values())
    return ScoreResult(total, per_domain, essdai_activity(total, moderate_from, high_from))


def essdai_activity(
    total: int, moderate_from: int = ESSDAI_MODERATE_FROM, high_from: int = ESSDAI_HIGH_FROM
) -> str:
    if total >= high_from:
        return "high"
    if total >= moderate_from:
        return "moderate"
    return "low"


def esspri_score(dryness: object, fatigue: object, pain: object) -> Decimal:
    """Mean of the three 0–10 scales, rounded to 2 decimal places."""
    scales = {"dryness": dryness, "fatigue": fatigue, "pain": pain}
    values = [_scale_value(name, value) for name, value in scales.items()]
    return (sum(values) / Decimal(len(values))).quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)


def esspri_acceptable(score: Decimal, *, below: Decimal = ESSPRI_ACCEPTABLE_BELOW) -> bool:
    """Patient-acceptable symptom state: ESSPRI below the cut-off (5 by default)."""
    return Decimal(score) < below


def is_clinically_important_improvement(
    baseline: Decimal | int,
    follow_up: Decimal | int,
    *,
    absolute_drop: Decimal | None = None,
    relative_drop: Decimal | None = None,
) -> bool:
    """True when the score fell by at least `absolute_drop` points or by at least `relative_drop`.

    `relative_drop` is a fraction of the baseline (0.15 = 15 %). Higher scores are worse for both
    ESSDAI and ESSPRI, so an improvement is a fall. A zero baseline cannot fall by a fraction.
    """
    if absolute_drop is None and relative_drop is None:
        raise DomainError("mcii", "give absolute_drop, relative_drop or both")
    drop = Decimal(baseline) - Decimal(follow_up)
    if absolute_drop is not None and drop >= absolute_drop:
        return True
    if relative_drop is not None and Decimal(baseline) > 0:
        return drop / Decimal(baseline) >= relative_drop
    return False


def essdai_mcii(
    baseline: int, follow_up: int, *, absolute_drop: Decimal = ESSDAI_MCII_DROP
) -> bool:
    return is_clinically_important_improvement(baseline, follow_up, absolute_drop=absolute_drop)


def esspri_mcii(
    baseline: Decimal,
    follow_up: Decimal,
    *,
    absolute_drop: Decimal = ESSPRI_MCII_ABSOLUTE_DROP,
    relative_drop: Decimal = ESSPRI_MCII_RELATIVE_DROP,
) -> bool:
    return is_clinically_important_improvement(
        baseline, follow_up, absolute_drop=absolute_drop, relative_drop=relative_drop
    )


def _scale_value(name: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise DomainError(name, f"{value!r} is not a number from 0 to 10")
    try:
        # str() first so that a float such as 6.1 becomes 6.1, not its binary expansion
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise DomainError(name, f"{value!r} is not a number from 0 to 10") from None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(10):
        raise DomainError(name, f"{value!r} is not a number from 0 to 10")
    return number
