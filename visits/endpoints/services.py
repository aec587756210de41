"""Live assessments: recomputed in the same transaction as the data change that affects them,
and the full recompute of many patients in chunks (one transaction and a constant few statements
each)."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from ecrf.audit import save_audited, save_many_audited
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


# Patients per transaction of a recompute: the statements per chunk are constant, so a larger
# chunk spreads them over more patients, but its row locks are held for the whole chunk and a
# coordinator writing for one of its patients waits for it (bench/README.md, fourth round: the
# longest chunk of 50 patients of 26 visits took 0.15-0.35 s on the loaded 2-core bench machine).
CHUNK_SIZE = 50


def _patient_states(patient_ids: list[int]) -> list[dict]:
    """The patients' rows (locked, in id order), their study's current protocol version, their
    stored assessments and their whole courses: one statement on PostgreSQL (one more per
    source elsewhere), whatever the number of patients.

    Locking the patients' rows (only those rows, never their study's) makes refreshes of one
    patient take turns; the write that set a refresh off has usually locked its patient already.
    Locking in id order lets two refreshes of overlapping patients queue instead of deadlock.
    """
    on_postgresql = connection.vendor == "postgresql"
    queryset = (
        Patient.objects.filter(pk__in=patient_ids)
        .order_by("pk")
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
    states = list(queryset.values(*fields))
    if on_postgresql:
        for state in states:
            state["course"] = course_from_annotations(state)
    else:
        data = CourseData([state["pk"] for state in states], as_of=None)
        for state in states:
            state["course"] = {
                attribute: getattr(data, attribute).get(state["pk"], [])
                for attribute, _, _ in COURSE_SOURCES
            }
    return states


def _assessment_to_store(state: dict, today) -> PatientAssessment | None:
    """The patient's assessment as it must now be stored (a new one, or the stored one's next
    version), unsaved; None when there is nothing to assess or nothing changed."""
    if state["day1"] is None or state["version_id"] is None:
        return None
    patient_id = state["pk"]
    facts = PatientFacts(*(state[name] for name in _FACTS))
    rules = protocol_rules(state["version_id"], state["version_hash"])
    result = assess_patient(
        facts,
        None,
        CourseData.of_one(patient_id, state["course"]),
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
    return stored


def _recomputed(reason: str) -> str:
    return f"Endpoints recomputed: {reason}"


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
    states = _patient_states([patient_id])
    stored = _assessment_to_store(states[0], timezone.localdate()) if states else None
    if stored is None:
        return None
    # Built from rows just read under the patient's lock: the database's foreign-key and unique
    # constraints are the check, no statement is spent asking about them first.
    return save_audited(stored, actor=actor, reason=_recomputed(reason), references_checked=True)


@transaction.atomic(savepoint=False)
def refresh_patient_assessments(patient_ids: list[int], *, actor, reason: str) -> int:
    """Recomputes a chunk of patients' assessments in one transaction with a constant number of
    statements (the read, and at most an insert, an update and their history rows), storing
    exactly what `refresh_patient_assessment` would store for each; returns how many changed.

    The chunk's patients stay locked until the transaction ends: keep it to `CHUNK_SIZE`."""
    today = timezone.localdate()
    to_store = [
        stored
        for state in _patient_states(patient_ids)
        if (stored := _assessment_to_store(state, today)) is not None
    ]
    save_many_audited(
        PatientAssessment,
        created=[stored for stored in to_store if stored._state.adding],
        updated=[stored for stored in to_store if not stored._state.adding],
        update_fields=["protocol_version", "evaluated_on", "visits", "endpoints", "version"],
        actor=actor,
        reason=_recomputed(reason),
        references_checked=True,
    )
    return len(to_store)


def in_chunks(patient_ids: list[int]) -> list[list[int]]:
    """Sorted patient ids cut into chunks of `CHUNK_SIZE`."""
    return [patient_ids[at : at + CHUNK_SIZE] for at in range(0, len(patient_ids), CHUNK_SIZE)]


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
    fixed order so two batches lock patients in the same order: one patient through the live
    refresh, more in chunks (inside the caller's transaction when there is one)."""
    ordered = sorted(patient_ids)
    if len(ordered) == 1:
        refresh_patient_assessment(ordered[0], actor=actor, reason=reason)
        return
    for chunk in in_chunks(ordered):
        refresh_patient_assessments(chunk, actor=actor, reason=reason)
