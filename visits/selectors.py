"""Reads of visit calendars. A visit's displayed status depends on today's date."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from patients.models import Patient
from visits.models import Visit, VisitStatus


class VisitDisplayStatus(StrEnum):
    SCHEDULED = "scheduled"  # its window has not opened yet
    DUE = "due"  # inside its window, not recorded yet
    OVERDUE = "overdue"  # its window has closed and nothing was recorded
    COMPLETED = "completed"
    MISSED = "missed"  # recorded as missed


def visit_display_status(visit: Visit, today: dt.date | None = None) -> VisitDisplayStatus:
    if visit.status == VisitStatus.COMPLETED:
        return VisitDisplayStatus.COMPLETED
    if visit.status == VisitStatus.MISSED:
        return VisitDisplayStatus.MISSED
    today = today or timezone.localdate()
    if visit.window_start is not None and today < visit.window_start:
        return VisitDisplayStatus.SCHEDULED
    if visit.window_end is not None and today > visit.window_end:
        return VisitDisplayStatus.OVERDUE
    return VisitDisplayStatus.DUE


def is_out_of_window(visit: Visit, actual_date: dt.date | None) -> bool:
    """An actual date outside the window is a protocol deviation (unscheduled: no window)."""
    if actual_date is None or visit.window_start is None or visit.window_end is None:
        return False
    return not visit.window_start <= actual_date <= visit.window_end


def patient_visits(patient: Patient, *, include_voided: bool = False) -> QuerySet[Visit]:
    """The calendar in date order: scheduled visits by target date, unscheduled ones by the
    date they happened."""
    visits = Visit.objects.filter(patient=patient)
    if not include_voided:
        visits = visits.filter(is_voided=False)
    return visits.annotate(calendar_date=Coalesce(F("target_date"), F("actual_date"))).order_by(
        "calendar_date", "unscheduled_number", "code"
    )
