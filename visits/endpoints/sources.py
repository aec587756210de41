"""Loading the data endpoints are assessed on, for many patients at once, now or as of a moment.

Every loader runs one query per source table whatever the number of patients. With `as_of`, rows
come from the audit history as they stood at that instant, so entries and corrections made later
are invisible (a reproducible data cut).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Model, QuerySet

from ecrf.domain.endpoints import SERIES_TESTS
from patients.models import Patient
from visits.findings.models import (
    BleedingAssessment,
    EssdaiAssessment,
    EsspriAssessment,
    RescueTherapy,
)
from visits.labs.models import LabResult
from visits.models import Visit


def rows(model: type[Model], as_of: dt.datetime | None, **filters) -> QuerySet:
    """Current rows, or the rows as they stood at `as_of` (latest history row of each)."""
    if as_of is None:
        return model._default_manager.filter(**filters)
    history = model.history.filter(history_date__lte=as_of, **filters)
    return history.latest_of_each().as_instances()


def _by_patient(queryset: Iterable) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row in queryset:
        grouped[row.patient_id].append(row)
    return grouped


# What an assessment reads, one entry per source table: (attribute of CourseData, model, extra
# filters). The refresh registration (`visits.endpoints.apps`) and its test take the models from
# here, so a new source cannot be read without its writes refreshing the stored assessment.
COURSE_SOURCES: tuple[tuple[str, type[Model], dict], ...] = (
    ("labs", LabResult, {"test_code__in": SERIES_TESTS}),
    ("bleeding", BleedingAssessment, {}),
    ("rescue", RescueTherapy, {}),
    ("essdai", EssdaiAssessment, {}),
    ("esspri", EsspriAssessment, {}),
    ("visits", Visit, {}),
)

# The patient row itself (day 1, arm, status, withdrawal) is read too.
ASSESSED_MODELS: tuple[type[Model], ...] = (Patient, *(model for _, model, _ in COURSE_SOURCES))


class CourseData:
    """Everything needed to assess a set of patients: one query per source, whatever their
    number."""

    labs: dict[int, list]
    bleeding: dict[int, list]
    rescue: dict[int, list]
    essdai: dict[int, list]
    esspri: dict[int, list]
    visits: dict[int, list]

    def __init__(self, patient_ids: list[int], *, as_of: dt.datetime | None) -> None:
        live = {"patient_id__in": patient_ids, "is_voided": False}
        for attribute, model, filters in COURSE_SOURCES:
            queryset = rows(model, as_of, **filters, **live)
            if model is LabResult:
                queryset = queryset.order_by("collected_at")
            setattr(self, attribute, _by_patient(queryset))


def patients_as_of(queryset: QuerySet[Patient], as_of: dt.datetime | None) -> list[Patient]:
    """The patients of `queryset` as they stood at `as_of` (their arm, day 1, status then)."""
    ids = list(queryset.values_list("pk", flat=True))
    return list(rows(Patient, as_of, id__in=ids).order_by("subject_id"))
