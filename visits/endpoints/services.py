"""Live assessments: recomputed in the same transaction as the data change that affects them."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from ecrf.audit import save_audited
from patients.models import Patient
from trials.models import ProtocolVersion
from visits.endpoints.evaluation import PatientFacts, assess_patient, protocol_rules
from visits.endpoints.models import PatientAssessment
from visits.endpoints.sources import (
    COURSE_SOURCES,
    CourseData,
    course_annotations,
    course_from_annotations,
)

_FACTS = ("pk", "day1", "status", "status_changed_on", "diagnosis")
_STORED = ("id", "created_at", "version", "protocol_version_id", "visits", "endpoints")


def _current_version(field: str) -> Subquery:
    """A field of the patient's study's current (highest-numbered) protocol version."""
    versions = ProtocolVersion.objects.filter(study_id=OuterRef("study_id")).order_by("-number")
    return Subquery(versions.values(field)[:1])


def _patient_state(patient_id: int) -> dict | None:
    """The patient's row (locked), its study's current protocol version, its stored assessment
    and, on PostgreSQL, its whole course: one statement.

    Locking the patient's row (only that row) makes refreshes of one patient take turns; the write
    that set this refresh off has usually locked it already.
    """
    on_postgresql = connection.vendor == "postgresql"
    queryset = (
        Patient.objects.filter(pk=patient_id)
        .select_for_update(of=("self",))
        .annotate(
            version_id=_current_version("pk"),
            version_hash=_current_version("content_hash"),
            **(course_annotations() if on_postgresql else {}),
        )
    )
    fields = [*_FACTS, "version_id", "version_hash", *(f"assessment__{f}" for f in _STORED)]
    if on_postgresql:
        fields += [f"course_{attribute}" for attribute, _, _ in COURSE_SOURCES]
    state = queryset.values(*fields).first()
    if state is not None and not on_postgresql:
        state.update(
            {f"course_{attribute}": rows for attribute, rows in _course_of(patient_id).items()}
        )
    return state


def _course_of(patient_id: int) -> dict[str, list]:
    data = CourseData([patient_id], as_of=None)
    return {
        attribute: getattr(data, attribute).get(patient_id, [])
        for attribute, _, _ in COURSE_SOURCES
    }


@transaction.atomic(savepoint=False)
def refresh_patient_assessment(
    patient: Patient | int, *, actor, reason: str
) -> PatientAssessment | None:
    """Recomputes one patient's assessment (only that patient) and stores it if it changed.

    Runs after every audited write to a model the assessment reads (`sources.ASSESSED_MODELS`,
    registered in `visits.endpoints.apps`), whichever service, view or command made it. Inside
    the write's transaction it adds no savepoint: a failed refresh fails the write.
    """
    patient_id = patient if isinstance(patient, int) else patient.pk
    state = _patient_state(patient_id)
    if state is None or state["day1"] is None or state["version_id"] is None:
        return None
    facts = PatientFacts(*(state[name] for name in _FACTS))
    rules = protocol_rules(state["version_id"], state["version_hash"])
    today = timezone.localdate()
    course = (
        course_from_annotations(state)
        if connection.vendor == "postgresql"
        else {attribute: state[f"course_{attribute}"] for attribute, _, _ in COURSE_SOURCES}
    )
    result = assess_patient(
        facts,
        None,
        CourseData.of_one(patient_id, course),
        evaluated_on=today,
        rules=rules,
    )
    stored_id = state["assessment__id"]
    if stored_id is None:
        stored = PatientAssessment(patient_id=patient_id)
    elif (
        state["assessment__protocol_version_id"] == state["version_id"]
        and state["assessment__visits"] == result["visits"]
        and state["assessment__endpoints"] == result["endpoints"]
    ):
        return None  # nothing changed: no new history row
    else:
        stored = PatientAssessment(
            id=stored_id,
            patient_id=patient_id,
            created_at=state["assessment__created_at"],
            version=state["assessment__version"] + 1,
        )
        stored._state.adding = False
    stored.protocol_version_id = state["version_id"]
    stored.evaluated_on = today
    stored.visits = result["visits"]
    stored.endpoints = result["endpoints"]
    # Built from rows just read under the patient's lock: the database's foreign-key and unique
    # constraints are the check, no statement is spent asking about them first.
    return save_audited(
        stored, actor=actor, reason=f"Endpoints recomputed: {reason}", references_checked=True
    )


# --- Keeping assessments live ------------------------------------------------------------------
#
# The recorders do not know this app. `visits.endpoints.apps.EndpointsConfig.ready()` registers
# `refresh_assessments` with `ecrf.after_write` for every model in `sources.ASSESSED_MODELS`, and
# `ecrf.audit.save_audited` runs it after each write to one of them, in the same transaction.


def patient_id_of(record) -> int | None:
    """The patient a written record belongs to (the patient itself for a patient row)."""
    if isinstance(record, Patient):
        return record.pk
    return getattr(record, "patient_id", None)


def refresh_assessments(patient_ids: set[int], *, actor, reason: str) -> None:
    """Reassesses each patient once (called after writes, or once at the end of a batch), in a
    fixed order so two batches lock patients in the same order."""
    for patient_id in sorted(patient_ids):
        refresh_patient_assessment(patient_id, actor=actor, reason=reason)
