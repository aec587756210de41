"""Reads of lab data, each with a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from ecrf.domain.dates import age_in_years
from ecrf.domain.eligibility import LabFact
from ecrf.domain.units import round_half_up
from patients.models import Patient
from patients.selectors import end_of_day
from visits.labs.models import LabResult, ReferenceRange


def lab_results_queryset() -> QuerySet[LabResult]:
    return LabResult.objects.select_related("patient", "visit")


def reference_ranges_queryset() -> QuerySet[ReferenceRange]:
    return ReferenceRange.objects.select_related("site", "site__study")


def reference_range_for(
    *, patient: Patient, test_code: str, laboratory: str, collected_on: dt.date
) -> ReferenceRange | None:
    """The site laboratory's range for this patient's sex and age on the collection day.

    A range for the patient's sex wins over one for both sexes; among equals the most recently
    effective one wins (the range table should not overlap, this keeps the choice stable).
    """
    age = age_in_years(patient.birth_date, collected_on)
    candidates = ReferenceRange.objects.filter(
        Q(sex=patient.sex) | Q(sex=""),
        Q(effective_to__isnull=True) | Q(effective_to__gte=collected_on),
        site_id=patient.site_id,
        laboratory=laboratory,
        test_code=test_code,
        age_min_years__lte=age,
        age_max_years__gte=age,
        effective_from__lte=collected_on,
    )
    ranked = sorted(candidates, key=lambda r: (r.sex != patient.sex, -r.effective_from.toordinal()))
    return ranked[0] if ranked else None


def results_of_test(patient: Patient, test_code: str) -> list[LabResult]:
    """The patient's valid results of one test, oldest first (one query)."""
    return list(
        LabResult.objects.filter(patient=patient, test_code=test_code, is_voided=False).order_by(
            "collected_at", "pk"
        )
    )


def baseline_among(results: list[LabResult], day1: dt.date | None) -> LabResult | None:
    """The baseline of a series (oldest first): the latest result on or before day 1 when
    day 1 is known, else the earliest result. After day 1 a value is no longer a baseline."""
    if not results:
        return None
    if day1 is None:
        return results[0]
    before_day1 = [r for r in results if r.collected_at.date() <= day1]
    return before_day1[-1] if before_day1 else None


def _as_reported(value: Decimal | None) -> Decimal | None:
    """Stored decimals carry 4 places; details read better as reported: 130, not 130.0000."""
    return None if value is None else round_half_up(value)


def latest_lab_facts(
    patient: Patient, on: dt.date, test_codes: set[str] | None
) -> dict[str, LabFact]:
    """Eligibility's lab facts: the latest valid result of each test collected by the end of
    `on` (registered with `patients.hooks` in this app's `ready()`). One query."""
    results = LabResult.objects.filter(
        patient=patient, is_voided=False, collected_at__lt=end_of_day(on)
    )
    if test_codes is not None:
        results = results.filter(test_code__in=sorted(test_codes))
    labs: dict[str, LabFact] = {}
    # In collection order, so the latest result of each test wins.
    for result in results.order_by("collected_at", "id"):
        labs[result.test_code] = LabFact(
            value=_as_reported(result.value),
            unit=result.unit,
            value_std=_as_reported(result.value_std),
            lln_std=_as_reported(result.lln_std),
            uln_std=_as_reported(result.uln_std),
            collected_on=timezone.localtime(result.collected_at).date(),
        )
    return labs
