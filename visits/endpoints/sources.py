"""Loading the data endpoints are assessed on, for many patients at once, now or as of a moment.

Every loader reads plain values (no model instances): the assessment needs a handful of columns
per row, and building instances and parsing timestamps cost more than the assessment of a long
history itself. Current data come in one statement for any number of patients on PostgreSQL (each
source aggregated to a JSON array per patient); otherwise, and with `as_of`, one query per source
table. With `as_of`, rows come from the audit history as they stood at that instant, so entries and
corrections made later are invisible (a reproducible data cut).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any, NamedTuple

from django.contrib.postgres.aggregates import JSONBAgg
from django.db import connection
from django.db.models import F, JSONField, Model, OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import Cast, JSONArray, TruncDate

from ecrf.audit import latest_versions
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


class LabRow(NamedTuple):
    test_code: str
    collected_on: dt.date  # the UTC date of collection
    value_std: Decimal


class BleedingRow(NamedTuple):
    assessed_at: dt.date
    who_grade: int


class TherapyRow(NamedTuple):
    started_at: dt.date
    stopped_at: dt.date | None
    itp_directed: bool
    therapy: str
    kind: str


class EssdaiRow(NamedTuple):
    assessed_on: dt.date
    total: int


class EsspriRow(NamedTuple):
    assessed_on: dt.date
    score: Decimal


class VisitRow(NamedTuple):
    actual_date: dt.date | None
    code: str
    window_start: dt.date | None
    window_end: dt.date | None
    definition_id: int | None


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


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _same(value: Any) -> Any:
    return value


# Per source: the row type and, per field, the expression read and how the value read becomes
# the Python value (in JSON, dates are ISO text and decimals text, so no digit is lost to a float).
_COLUMNS: dict[str, tuple[type, tuple[tuple[Any, Any], ...]]] = {
    "labs": (
        LabRow,
        (
            (F("test_code"), _same),
            (TruncDate("collected_at", tzinfo=dt.UTC), _date),
            (Cast("value_std", TextField()), _decimal),
        ),
    ),
    "bleeding": (BleedingRow, ((F("assessed_at"), _date), (F("who_grade"), _same))),
    "rescue": (
        TherapyRow,
        (
            (F("started_at"), _date),
            (F("stopped_at"), _date),
            (F("itp_directed"), _same),
            (F("therapy"), _same),
            (F("kind"), _same),
        ),
    ),
    "essdai": (EssdaiRow, ((F("assessed_on"), _date), (F("total"), _same))),
    "esspri": (EsspriRow, ((F("assessed_on"), _date), (Cast("score", TextField()), _decimal))),
    "visits": (
        VisitRow,
        (
            (F("actual_date"), _date),
            (F("code"), _same),
            (F("window_start"), _date),
            (F("window_end"), _date),
            (F("definition_id"), _same),
        ),
    ),
}


def _ordering(model: type[Model]) -> list[str]:
    """The model's own order within one patient (the order the engine has always seen)."""
    return ["id" if name == "pk" else name for name in model._meta.ordering if name != "patient"]


def rows(model: type[Model], as_of: dt.datetime | None, *, scope: dict, **filters) -> QuerySet:
    """Current rows, or the rows as they stood at `as_of`: each record of `scope` (its patient,
    its id) as its latest history row then, and only that version filtered by `filters`."""
    if as_of is None:
        return model._default_manager.filter(**scope, **filters)
    return latest_versions(model, as_of, **scope).filter(**filters)


class _DecimalJSON(json.JSONDecoder):
    def __init__(self, **options) -> None:
        super().__init__(parse_float=Decimal, **options)


def course_annotations() -> dict[str, Subquery]:
    """Each source's current rows of the outer patient as one JSON array (PostgreSQL), to be
    annotated on a patient queryset: the whole course in the patient's own row."""
    annotations = {}
    for attribute, model, filters in COURSE_SOURCES:
        _, columns = _COLUMNS[attribute]
        aggregated = (
            model._default_manager.filter(patient_id=OuterRef("pk"), is_voided=False, **filters)
            .order_by()
            .values("patient_id")
            .annotate(
                course_rows=JSONBAgg(
                    JSONArray(*(expression for expression, _ in columns)),
                    order_by=_ordering(model),
                )
            )
            .values("course_rows")
        )
        annotations[f"course_{attribute}"] = Subquery(
            aggregated, output_field=JSONField(decoder=_DecimalJSON)
        )
    return annotations


def course_from_annotations(row: dict) -> dict[str, list]:
    """The plain rows of each source from a row annotated with `course_annotations()`."""
    course = {}
    for attribute, _, _ in COURSE_SOURCES:
        row_type, columns = _COLUMNS[attribute]
        course[attribute] = [
            row_type(*(convert(value) for (_, convert), value in zip(columns, item, strict=True)))
            for item in row[f"course_{attribute}"] or ()
        ]
    return course


class CourseData:
    """Everything needed to assess a set of patients: one statement (PostgreSQL, current data) or
    one per source, whatever their number."""

    labs: dict[int, list[LabRow]]
    bleeding: dict[int, list[BleedingRow]]
    rescue: dict[int, list[TherapyRow]]
    essdai: dict[int, list[EssdaiRow]]
    esspri: dict[int, list[EsspriRow]]
    visits: dict[int, list[VisitRow]]

    def __init__(self, patient_ids: list[int], *, as_of: dt.datetime | None) -> None:
        if as_of is None and connection.vendor == "postgresql":
            self._load_annotated(patient_ids)
        else:
            self._load_per_source(patient_ids, as_of)

    @classmethod
    def of_one(cls, patient_id: int, course: dict[str, list]) -> CourseData:
        """One patient's course already read (e.g. together with its row)."""
        data = cls.__new__(cls)
        for attribute, _, _ in COURSE_SOURCES:
            setattr(data, attribute, {patient_id: course[attribute]})
        return data

    def _load_annotated(self, patient_ids: list[int]) -> None:
        for attribute, _, _ in COURSE_SOURCES:
            setattr(self, attribute, {})
        found = Patient.objects.filter(pk__in=patient_ids).annotate(**course_annotations())
        for row in found.values("pk", *(f"course_{a}" for a, _, _ in COURSE_SOURCES)):
            for attribute, rows_of_patient in course_from_annotations(row).items():
                getattr(self, attribute)[row["pk"]] = rows_of_patient

    def _load_per_source(self, patient_ids: list[int], as_of: dt.datetime | None) -> None:
        scope = {"patient_id__in": patient_ids}
        for attribute, model, filters in COURSE_SOURCES:
            row_type, columns = _COLUMNS[attribute]
            queryset = rows(model, as_of, scope=scope, is_voided=False, **filters).order_by(
                "patient_id", *_ordering(model)
            )
            grouped: dict[int, list] = defaultdict(list)
            expressions = [expression for expression, _ in columns]
            for patient_id, *values in queryset.values_list("patient_id", *expressions):
                grouped[patient_id].append(
                    row_type(*(convert(v) for (_, convert), v in zip(columns, values, strict=True)))
                )
            setattr(self, attribute, grouped)


def patients_as_of(queryset: QuerySet[Patient], as_of: dt.datetime | None) -> list[Patient]:
    """The patients of `queryset` as they stood at `as_of` (their arm, day 1, status then)."""
    ids = list(queryset.values_list("pk", flat=True))
    found = rows(Patient, as_of, scope={"id__in": ids})
    if as_of is not None:
        found = found.as_instances()
    return list(found.order_by("subject_id"))
