"""Live assessments: recomputed in the same transaction as the data change that affects them."""

from __future__ import annotations

import contextlib
import contextvars
import functools

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

    Called explicitly by every service that writes data an endpoint reads (lab results,
    bleeding, rescue therapy, dose records, scores, randomization, withdrawal).
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
# Every service that writes data an endpoint reads is declared with @refreshes_endpoints, so the
# patient's assessment is recomputed in the same transaction as the write (no signals: the
# dependency is visible where the write is defined). A bulk operation defers the refreshes and
# recomputes each touched patient once at its end.

_deferred: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar(
    "deferred_endpoint_refreshes", default=None
)


def _patient_of(result) -> Patient | None:
    if isinstance(result, Patient):
        return result
    patient = getattr(result, "patient", None)
    return patient if isinstance(patient, Patient) else None


def refreshes_endpoints(reason: str):
    """Decorates a write service: after it succeeds, the written record's patient is reassessed."""

    def decorate(service):
        @functools.wraps(service)
        def write_and_refresh(*args, **kwargs):
            with transaction.atomic():
                result = service(*args, **kwargs)
                patient = _patient_of(result)
                if patient is not None:
                    touched = _deferred.get()
                    if touched is not None:
                        touched.add(patient.pk)
                    else:
                        refresh_patient_assessment(
                            patient, actor=kwargs.get("actor"), reason=reason
                        )
                return result

        return write_and_refresh

    return decorate


@contextlib.contextmanager
def deferred_refreshes(*, actor, reason: str):
    """Within the block, refreshes are collected; each touched patient is reassessed once after."""
    touched: set[int] = set()
    token = _deferred.set(touched)
    try:
        yield touched
    finally:
        _deferred.reset(token)
    for patient in Patient.objects.filter(pk__in=touched):
        refresh_patient_assessment(patient, actor=actor, reason=reason)
