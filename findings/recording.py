"""Checks shared by every service that records clinical data about a patient.

Used by the findings and dosing services alike: who may enter data for which patient, which
visit belongs to whom, and how an update or void of a stored record is prepared.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone

from ecrf.access import Action, can, scope_queryset
from ecrf.audit import check_version, require_reason, void_audited
from ecrf.exceptions import InvalidInput, PermissionRefused
from patients.models import Patient
from visits.models import Visit

UNKNOWN_PATIENT = "Unknown patient."


def scoped_patient(actor, patient_id: int | None) -> Patient:
    """The patient if `actor` may see them; unknown and foreign patients look the same."""
    queryset = scope_queryset(Patient.objects.filter(is_voided=False), actor, Action.VIEW)
    patient = queryset.filter(pk=patient_id).first() if patient_id is not None else None
    if patient is None:
        raise InvalidInput(UNKNOWN_PATIENT, field="patient")
    return patient


def check_patient_entry(actor, patient: Patient, action: Action = Action.ENTER_DATA) -> None:
    """May `actor` do `action` for this patient? 400 when the patient is not theirs to see."""
    where = {"study_id": patient.study_id, "site_id": patient.site_id}
    if patient.is_voided or not can(actor, Action.VIEW, **where):
        raise InvalidInput(UNKNOWN_PATIENT, field="patient")
    if not can(actor, action, **where):
        raise PermissionRefused(f"Your role does not allow '{action.value}' for this patient.")


def check_visit(patient: Patient, visit: Visit | None) -> None:
    if visit is not None and visit.patient_id != patient.pk:
        raise InvalidInput("Unknown visit for this patient.", field="visit")


def visit_by_id(visit_id: int | None) -> Visit | None:
    """The visit with this id, or a placeholder that fails `check_visit` (no existence leak)."""
    if visit_id is None:
        return None
    return Visit.objects.filter(pk=visit_id).first() or Visit(pk=0, patient_id=0)


def check_not_future(value: dt.date | None, field: str) -> None:
    if value is not None and value > timezone.localdate():
        raise InvalidInput("Must not be in the future.", field=field)


def check_not_before(value: dt.date | None, earliest: dt.date, field: str, what: str) -> None:
    if value is not None and value < earliest:
        raise InvalidInput(f"Must not be before {what} ({earliest.isoformat()}).", field=field)


def locked_for_change(
    record: models.Model, *, reason: str | None, expected_version: int | None
) -> models.Model:
    """A locked fresh copy of `record`, refused if stale or voided, before any validation.

    Locking first means the merged values a service validates are the values it will write.
    """
    require_reason(reason)
    locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
    check_version(locked, expected_version)
    if locked.is_voided:
        raise InvalidInput("The record is voided; a voided record cannot be changed.", field=None)
    return locked


def merged(record: models.Model, changes: dict, fields: tuple[str, ...]) -> dict:
    """The record's values after `changes`, for validating an update as a whole."""
    return {name: changes.get(name, getattr(record, name)) for name in fields}


def void_patient_record(record: models.Model, *, actor, reason: str | None, expected_version):
    """Voids a patient's record (it stays, flagged, in the audit trail)."""
    check_patient_entry(actor, record.patient, Action.VOID)
    return void_audited(record, actor=actor, reason=reason, expected_version=expected_version)
