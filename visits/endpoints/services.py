"""Live assessments: recomputed in the same transaction as the data change that affects them."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ecrf.audit import save_audited
from patients.models import Patient
from visits.endpoints.evaluation import assess_patient
from visits.endpoints.models import PatientAssessment
from visits.endpoints.sources import CourseData


@transaction.atomic
def refresh_patient_assessment(patient: Patient, *, actor, reason: str) -> PatientAssessment | None:
    """Recomputes one patient's assessment (only that patient) and stores it if it changed.

    Runs after every audited write to a model the assessment reads (`sources.ASSESSED_MODELS`,
    registered in `visits.endpoints.apps`), whichever service, view or command made it.
    """
    patient = Patient.objects.select_related("study").get(pk=patient.pk)
    protocol_version = patient.study.current_protocol()
    if patient.day1 is None or protocol_version is None:
        return None
    today = timezone.localdate()
    result = assess_patient(
        patient, protocol_version, CourseData([patient.pk], as_of=None), evaluated_on=today
    )
    # of=("self",): the default ordering joins patient and study, which must not be locked.
    stored = (
        PatientAssessment.objects.select_for_update(of=("self",)).filter(patient=patient).first()
    )
    if stored is None:
        stored = PatientAssessment(patient=patient, protocol_version=protocol_version)
    elif (
        stored.protocol_version_id == protocol_version.pk
        and stored.visits == result["visits"]
        and stored.endpoints == result["endpoints"]
    ):
        return stored  # nothing changed: no new history row
    else:
        stored.version += 1
    stored.protocol_version = protocol_version
    stored.evaluated_on = today
    stored.visits = result["visits"]
    stored.endpoints = result["endpoints"]
    return save_audited(stored, actor=actor, reason=f"Endpoints recomputed: {reason}")


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
    """Reassesses each patient once (called after writes, or once at the end of a batch)."""
    for patient in Patient.objects.filter(pk__in=patient_ids).order_by("pk"):
        refresh_patient_assessment(patient, actor=actor, reason=reason)
