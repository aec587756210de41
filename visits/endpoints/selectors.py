"""Reads of endpoint assessments: stored ones, or recomputed under another version or data cut."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from patients.models import Patient
from trials.models import ProtocolVersion
from visits.endpoints.evaluation import assess_patient, endpoint_specs
from visits.endpoints.models import PatientAssessment
from visits.endpoints.sources import CourseData, patients_as_of


def end_of_cut(as_of: dt.datetime | dt.date | None) -> dt.datetime | None:
    """A bare date means the end of that day (UTC): everything entered that day is included."""
    if as_of is None:
        return None
    if isinstance(as_of, dt.datetime):
        return as_of if timezone.is_aware(as_of) else timezone.make_aware(as_of, dt.UTC)
    return dt.datetime.combine(as_of, dt.time.max, tzinfo=dt.UTC)


def patient_assessment(
    patient: Patient,
    *,
    protocol_version: ProtocolVersion,
    as_of: dt.datetime | None = None,
) -> dict:
    """The patient's per-visit responses and endpoints.

    The stored assessment answers when it is for the requested (current) version and no cut is
    asked for; otherwise the data are loaded as they stood at `as_of` and assessed afresh.
    """
    if as_of is None:
        stored = PatientAssessment.objects.filter(
            patient=patient, protocol_version=protocol_version, evaluated_on=timezone.localdate()
        ).first()
        if stored is not None:
            return {"visits": stored.visits, "endpoints": stored.endpoints}
        state = patient
        evaluated_on = timezone.localdate()
    else:
        [state] = patients_as_of(Patient.objects.filter(pk=patient.pk), as_of) or [None]
        if state is None:
            return {"visits": [], "endpoints": {}}
        evaluated_on = as_of.date()
    data = CourseData([patient.pk], as_of=as_of)
    return assess_patient(state, protocol_version, data, evaluated_on=evaluated_on)


def assessments_for(
    patients: list[Patient],
    *,
    protocol_version: ProtocolVersion,
    as_of: dt.datetime | None,
) -> dict[int, dict]:
    """Assessments of many patients with a constant number of queries."""
    evaluated_on = as_of.date() if as_of else timezone.localdate()
    ids = [p.pk for p in patients]
    if as_of is None:
        stored = {
            a.patient_id: {"visits": a.visits, "endpoints": a.endpoints}
            for a in PatientAssessment.objects.filter(
                patient_id__in=ids, protocol_version=protocol_version, evaluated_on=evaluated_on
            )
        }
        missing = [p for p in patients if p.pk not in stored]
    else:
        stored, missing = {}, patients
    if missing:
        specs = endpoint_specs(protocol_version)
        data = CourseData([p.pk for p in missing], as_of=as_of)
        for patient in missing:
            stored[patient.pk] = assess_patient(
                patient, protocol_version, data, evaluated_on=evaluated_on, specs=specs
            )
    return stored
