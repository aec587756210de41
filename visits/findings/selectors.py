"""Reads of findings that other apps rely on, each with a fixed number of queries."""

from __future__ import annotations

import datetime as dt

from patients.models import Patient
from visits.findings.models import EcogAssessment


def latest_ecog_score(patient: Patient, on: dt.date, test_codes: set[str] | None) -> int | None:
    """Eligibility's ECOG fact: the latest valid score assessed on or before `on` (registered
    with `patients.hooks` in this app's `ready()`; `test_codes` concern labs only). One query."""
    return (
        EcogAssessment.objects.filter(patient=patient, is_voided=False, assessed_on__lte=on)
        .order_by("-assessed_on", "-id")
        .values_list("score", flat=True)
        .first()
    )
