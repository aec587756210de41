"""A cut (`as_of`) reads each record as it stood then: its latest history row at that instant,
and only then the record's filters (voided or not, its test). A record voided, or corrected to
another test, before the cut is read as voided or as the other test, never as its earlier
version (issue 12's rewrite of the latest-version query)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from visits.endpoints.sources import CourseData
from visits.labs.services import lab_result_correct, lab_result_create, lab_result_void

pytestmark = pytest.mark.django_db

DAY1 = dt.date(2025, 1, 8)


def taken(day: int) -> dt.datetime:
    return dt.datetime(2025, 3, day, 8, 0, tzinfo=dt.UTC)


def test_a_cut_reads_each_record_as_it_stood(study, make_patient, place_on_arm, make_user):
    patient = place_on_arm(make_patient(study, "PKUPH"), "DAN", day1=DAY1)
    actor = make_user("cora", "coordinator", "NCT05471050", ["PKUPH"])

    def plat(day: int, value: str):
        return lab_result_create(
            actor=actor, patient=patient, collected_at=taken(day), test_code="PLAT",
            value=Decimal(value), unit="10^9/L",
        )  # fmt: skip

    kept, voided, moved = plat(1, "41"), plat(2, "52"), plat(3, "63")
    before_changes = timezone.now()
    lab_result_void(actor=actor, result=voided, reason="Wrong patient", expected_version=1)
    moved.refresh_from_db()
    lab_result_correct(
        actor=actor, result=moved, changes={"test_code": "HGB", "value": Decimal("120"),
        "unit": "g/L"}, reason="Typed in the wrong row", expected_version=moved.version,
    )  # fmt: skip
    after_changes = timezone.now()

    def labs(as_of) -> list[tuple[str, str, Decimal]]:
        course = CourseData([patient.pk], as_of=as_of)
        return [
            (row.test_code, str(row.collected_on), row.value_std) for row in course.labs[patient.pk]
        ]

    assert labs(before_changes) == [
        ("PLAT", "2025-03-01", Decimal("41.0000")),
        ("PLAT", "2025-03-02", Decimal("52.0000")),
        ("PLAT", "2025-03-03", Decimal("63.0000")),
    ]
    # Voided, and corrected to haemoglobin, before the cut: read as they stood then.
    assert labs(after_changes) == [
        ("PLAT", "2025-03-01", Decimal("41.0000")),
        ("HGB", "2025-03-03", Decimal("120.0000")),
    ]
    assert labs(None) == labs(after_changes)
    assert kept.test_code == "PLAT"
