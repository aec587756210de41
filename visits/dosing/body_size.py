"""The weight and height a dose is computed from, and where each value came from.

"baseline" is the patient's value at randomization: the patient record as it stood at the end
of day 1 (its audit history), or the current value when the record was created later.
"latest" is the most recent vital-signs measurement, falling back to the baseline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from patients.models import Patient
from visits.findings.models import VitalSigns

BASELINE = "baseline"
LATEST = "latest"


@dataclass(frozen=True)
class Measurement:
    value: Decimal
    source: str


def baseline(patient: Patient, field: str) -> Measurement:
    """`field` (weight_kg or height_cm) of the patient record as of the end of day 1."""
    end_of_day1 = timezone.make_aware(
        dt.datetime.combine(patient.day1 + dt.timedelta(days=1), dt.time.min)
    )
    as_of_day1 = (
        patient.history.filter(history_date__lt=end_of_day1)
        .order_by("-history_date", "-history_id")
        .first()
    )
    if as_of_day1 is not None:
        return Measurement(
            getattr(as_of_day1, field), f"patient record as of day 1 ({patient.day1})"
        )
    return Measurement(getattr(patient, field), "patient record (entered after day 1)")


def latest(patient: Patient, field: str) -> Measurement:
    """The most recent vital-signs value of `field`, else the baseline value."""
    measured = (
        VitalSigns.objects.filter(patient=patient, is_voided=False, **{f"{field}__isnull": False})
        .order_by("-measured_on", "-pk")
        .first()
    )
    if measured is None:
        fallback = baseline(patient, field)
        return Measurement(fallback.value, f"{fallback.source}; no vital signs")
    return Measurement(getattr(measured, field), f"vital signs of {measured.measured_on}")


def measurement(patient: Patient, field: str, basis: str) -> Measurement:
    return latest(patient, field) if basis == LATEST else baseline(patient, field)
